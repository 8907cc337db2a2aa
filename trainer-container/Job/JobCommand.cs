using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Storage;

namespace Pipeline.Trainer.Job;

/// <summary>
/// <c>trainer job [--watch]</c>: takes one message from the training queue and runs its job, as one replica of an
/// event-driven Container Apps Job does; <c>--watch</c> keeps taking them (the local host runs it so).
/// Settings come from the environment: <c>Storage</c> (or <c>Storage__blobServiceUri</c> and friends) and <c>Pipeline__*</c>.
/// </summary>
public static class JobCommand
{
    public const string Usage = """
        Usage: trainer job [--watch] [--lease-file <path>]
          Takes one training job from the storage queue, trains it and promotes the model version if it is at least as good.
          SIGTERM or Ctrl+C stops it at the next batch and hands the job back (queued again, the attempt not counted).
          --watch              keep taking jobs until stopped (local use)
          --lease-file <path>  keep the message held in this file,
              so that a host can retry the job at once if this process dies
        Settings (environment): Storage (connection string) or Storage__blobServiceUri, Storage__queueServiceUri,
          Storage__credential, Storage__clientId; Pipeline__JobVisibilitySeconds, Pipeline__JobMaxAttempts.
        """;

    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        if (args.Any(a => a is "--help" or "-h")) { Console.WriteLine(Usage); return 0; }
        var watch = args.Contains("--watch");
        var leaseAt = Array.IndexOf(args, "--lease-file");
        var leaseFile = leaseAt >= 0 && leaseAt + 1 < args.Length ? Path.GetFullPath(args[leaseAt + 1]) : null;
        if (args.Where((a, i) => a != "--watch" && i != leaseAt && (leaseFile is null || i != leaseAt
            + 1)).FirstOrDefault() is { } unknown)
        { Console.Error.WriteLine($"Unknown option '{unknown}'.\n{Usage}"); return 2; }

        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        await using var services = new ServiceCollection()
            .AddLogging(logging => logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }))
            .AddPipeline(configuration)
            .AddSingleton<JobWorker>()
            .BuildServiceProvider();
        var worker = services.GetRequiredService<JobWorker>();
        var logger = services.GetRequiredService<ILogger<JobWorker>>();
        logger.LogInformation("Waiting for training jobs, training on {Device} (watch: {Watch})", Training.TrainingDevice.Describe(), watch);
        do
        {
            bool took;
            try { took = await worker.TakeOneAsync(ct, leaseFile); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            catch (Exception e) when (watch)
            {
                // Storage unreachable for a moment, say; the message (if any) is retried after its visibility timeout.
                logger.LogError(e, "Taking a training job failed; trying again");
                took = false;
            }
            if (!took && watch) await Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => { }, CancellationToken.None);
        } while (watch && !ct.IsCancellationRequested);
        // Stopping on request is not a failure: a job in hand was handed back.
        if (ct.IsCancellationRequested) logger.LogInformation("Stopped on request");
        return 0;
    }
}
