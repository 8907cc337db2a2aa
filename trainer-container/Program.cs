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

try
{
    return await TrainerCommandLine.RunAsync(args, cancel.Token);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
