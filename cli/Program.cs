using Pipeline.Cli;

// pipeline <command> ...: the command line over the pipeline's storage and HTTP API (pipeline --help).
using var stopping = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C stops cleanly (an upload says how far it got); a second one ends the process.
    if (stopping.IsCancellationRequested) return;
    e.Cancel = true;
    stopping.Cancel();
};
return await PipelineCli.RunAsync(args, CliConsole.System, stopping.Token);
