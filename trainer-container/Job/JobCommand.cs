using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Pipeline.Core;

namespace Pipeline.Trainer.Job;

/// <summary>
/// <c>trainer job [--watch] [--lease-file &lt;path&gt;]</c>: takes one message from the training queue and runs its
/// job, as one replica of an event-driven Container Apps Job does; <c>--watch</c> keeps taking them (the local host
/// runs it so), and the lease file lets the host retry the job at once if this process dies.
/// Settings come from the environment: <c>Storage</c> (or <c>Storage__blobServiceUri</c> and friends) and
/// <c>Pipeline__*</c>.
/// </summary>
public static class JobCommand
{
    private const string Description = """
        Take one training job from the storage queue, train it and promote the model version if it is at least as good.
        SIGTERM or Ctrl+C stops it at the next batch and hands the job back (queued again, the attempt not counted).
        Settings (environment): Storage (connection string) or Storage__blobServiceUri, Storage__queueServiceUri,
        Storage__credential, Storage__clientId; Pipeline__JobVisibilitySeconds, Pipeline__JobMaxAttempts.
        Telemetry: APPLICATIONINSIGHTS_CONNECTION_STRING (with AZURE_CLIENT_ID's identity), else
        OTEL_EXPORTER_OTLP_ENDPOINT, else spans on the console.
        """;

    public static Command Create()
    {
        var watch = new Option<bool>("--watch") { Description = "keep taking jobs until stopped (local use)" };
        var lease = new Option<FileInfo?>("--lease-file")
        {
            Description = "keep the message held in this file, so that a host can retry the job at once if this " +
                "process dies",
            HelpName = "path",
        };
        var command = new Command("job", Description) { watch, lease };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(watch), parse.GetValue(lease)?.FullName, ct));
        return command;
    }

    public static async Task<int> RunAsync(bool watch, string? leaseFile, CancellationToken ct)
    {
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        await using var services = new ServiceCollection()
            .AddLogging(logging => logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            }))
            .AddPipeline(configuration)
            .AddSingleton<JobWorker>()
            .AddPipelineTelemetry(configuration, "pipeline-trainer").Services
            .BuildServiceProvider();
        // No host starts the providers here; disposing the services flushes what they hold.
        _ = services.GetService<TracerProvider>();
        _ = services.GetService<MeterProvider>();
        var worker = services.GetRequiredService<JobWorker>();
        var logger = services.GetRequiredService<ILogger<JobWorker>>();
        logger.LogInformation("Waiting for training jobs, training on {Device} (watch: {Watch})",
            Training.TrainingDevice.Describe(), watch);
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
            if (!took && watch)
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => { }, CancellationToken.None);
        } while (watch && !ct.IsCancellationRequested);
        // Stopping on request is not a failure: a job in hand was handed back.
        if (ct.IsCancellationRequested) logger.LogInformation("Stopped on request");
        return 0;
    }
}
