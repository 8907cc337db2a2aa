namespace Pipeline.Trainer.Cli;

/// <summary>The <c>job</c> command: forwards to the queue worker in Job/.</summary>
public static class JobEntry
{
    public static Task<int> RunAsync(string[] args, CancellationToken ct) => Job.JobCommand.RunAsync(args, ct);
}
