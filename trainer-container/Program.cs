using System.Runtime.InteropServices;
using Pipeline.Trainer.Cli;

// trainer train ...   trains from folders on disk (the command line users and benchmarks run)
// trainer job [--watch]   takes training jobs from the queue (the Container Apps Job's entry point)
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
// SIGTERM is how a service manager, Container Apps and the local host stop a process: stop at the next batch, not at
// once.
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
{
    signal.Cancel = true;
    cancel.Cancel();
});

const string usage = """
    Usage: trainer <command> [options]
      train   train a model version from folders of images on disk (trainer train --help)
      job     take training jobs from the storage queue; --watch keeps taking them (trainer job --help)
    """;

try
{
    return args.FirstOrDefault() switch
    {
        "train" => await TrainCommand.RunAsync(args[1..], cancel.Token),
        "job" => await JobEntry.RunAsync(args[1..], cancel.Token),
        "--help" or "-h" => Usage(0),
        _ => Usage(2),
    };
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}

int Usage(int code)
{
    (code == 0 ? Console.Out : Console.Error).WriteLine(usage);
    return code;
}
