using Pipeline.Trainer.Cli;

// trainer train ...   trains from folders on disk (the command line users and benchmarks run)
// trainer job [--watch]   takes training jobs from the queue (the Container Apps Job's entry point)
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

try
{
    return await TrainerCommandLine.RunAsync(args, cancel.Token);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
