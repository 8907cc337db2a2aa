using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;
using Pipeline.Trainer.Training;

namespace Pipeline.Trainer.Job;

/// <summary>
/// Writes the trainer's progress into training.json every couple of seconds, where the status endpoint reads it; each
/// stage it reports (load, features, head, fine-tune, ...) is a span of the job's trace.
/// </summary>
public sealed class ProgressWriter : IProgress<TrainingProgress>, IAsyncDisposable
{
    private readonly TrainingJobStore jobs;
    private readonly TrainingJob job;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stop = new();
    private readonly Task writing;
    private TrainingProgress? latest;
    private TrainingProgress? written;
    private readonly ActivityContext jobSpan = Activity.Current?.Context ?? default;
    private readonly Lock gate = new();
    private Activity? stageSpan;
    private string? stage;

    public ProgressWriter(TrainingJobStore jobs, TrainingJob job, ILogger logger)
    {
        this.jobs = jobs;
        this.job = job;
        this.logger = logger;
        writing = WriteLoopAsync(stop.Token);
    }

    public void Report(TrainingProgress value)
    {
        Volatile.Write(ref latest, value);
        StageSpan(value.Stage);
        logger.LogInformation(
            "{Dataset} {Stage} epoch {Epoch}/{Epochs} loss {Loss:0.###} accuracy {Accuracy:0.###} {Message}",
            job.Dataset, value.Stage, value.Epoch, value.Epochs, value.Loss, value.Accuracy, value.Message ?? "");
    }

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try { await Task.Delay(TimeSpan.FromSeconds(2), ct); }
            catch (OperationCanceledException) { break; }
            await FlushAsync();
        }
        await FlushAsync();
    }

    private async Task FlushAsync()
    {
        var now = Volatile.Read(ref latest);
        if (now is null || ReferenceEquals(now, written)) return;
        var progress = new JobProgress(now.Stage, now.Epoch, now.Epochs, now.Loss, now.Accuracy, now.ValidationLoss,
            now.ValidationAccuracy, now.Message, DateTimeOffset.UtcNow);
        try
        {
            await jobs.UpdateAsync(job.Dataset,
                j => j is { JobId: var id, State: TrainingState.Running } && id == job.JobId
                    ? j with { Progress = progress }
                    : null,
                CancellationToken.None);
            written = now;
        }
        catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException)
        {
            // progress is news, not state: training goes on
            logger.LogWarning(e, "Could not write progress of {JobId}", job.JobId);
        }
    }

    /// <summary>Ends the last stage's span and starts one for a new stage, leaving the caller's span current.</summary>
    private void StageSpan(string name)
    {
        lock (gate)
        {
            if (name == stage) return;
            stage = name;
            stageSpan?.Dispose();
            var current = Activity.Current;
            stageSpan = Telemetry.Source.StartActivity($"stage {name}", ActivityKind.Internal, jobSpan);
            stageSpan?.SetTag("pipeline.stage", name);
            Activity.Current = current;
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (gate) stageSpan?.Dispose();
        stop.Cancel();
        await writing;
        stop.Dispose();
    }
}
