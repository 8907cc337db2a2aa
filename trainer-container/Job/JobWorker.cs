using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;
using Pipeline.Trainer.Report;
using Pipeline.Trainer.Training;

namespace Pipeline.Trainer.Job;

/// <summary>
/// One training job from message to promoted version. Idempotent on redelivery: a job already finished, or whose
/// version
/// latest.json already names, is only acknowledged. A training failure fails the job; a crash leaves the message to be
/// retried, and after <see cref="PipelineOptions.JobMaxAttempts"/> tries it goes to the poison queue and the job fails.
/// It writes only what it did into training.json (state, progress, trained images, outcome) and never queues a job.
/// </summary>
public sealed class JobWorker(PipelineStorage storage, DatasetImageStore images, TrainingJobStore jobs,
    JobAttempts attempts, ModelStore versions, RejectionStore rejections, ModelRetention retention,
    IOptions<PipelineOptions> options, ILogger<JobWorker> logger)
{
    /// <summary>
    /// Takes and runs one job; false when the queue was empty. With <paramref name="leaseFile"/>, the message held is
    /// kept
    /// in that file while the job runs, for a host that retries the job at once if this process dies.
    /// Cancelled (the trainer is stopping), it hands the job back: queued again, this attempt not counted.
    /// </summary>
    public async Task<bool> TakeOneAsync(CancellationToken ct, string? leaseFile = null)
    {
        var visibility = TimeSpan.FromSeconds(Math.Max(5, options.Value.JobVisibilitySeconds));
        var received = (await storage.TrainingQueue.ReceiveMessageAsync(visibility, ct)).Value;
        if (received is null) return false;
        await using var keeper = new MessageKeeper(storage.TrainingQueue, received, visibility);

        TrainingJobMessage? message;
        try { message = received.Body.ToObjectFromJson<TrainingJobMessage>(Json.Options); }
        catch (JsonException) { message = null; }
        if (message is null || Names.CheckDataset(message.Dataset) is not null || string.IsNullOrEmpty(message.JobId))
        {
            logger.LogError("Malformed training message {MessageId}; moved to the poison queue", received.MessageId);
            await storage.TrainingPoisonQueue.SendMessageAsync(received.Body, cancellationToken: ct);
            await keeper.DeleteAsync(ct);
            return true;
        }

        // The dispatch's trace goes on here: the job's stages and the promotion are its spans.
        using var span = Telemetry.StartFrom("training job", message.TraceParent);
        span?.SetTag(Telemetry.DatasetTag, message.Dataset);
        span?.SetTag(Telemetry.JobTag, message.JobId);
        span?.SetTag("pipeline.attempt", received.DequeueCount);
        var job = await jobs.ReadAsync(message.Dataset, ct);
        if (job is null || job.JobId != message.JobId || !job.IsActive)
        {
            logger.LogInformation("Job {JobId} of {Dataset} is finished or superseded; message acknowledged",
                message.JobId, message.Dataset);
            await keeper.DeleteAsync(ct);
            return true;
        }
        // Deliveries after a hand-back are not attempts.
        var attempt = (int)received.DequeueCount - job.HandBacks;
        if (job.State == TrainingState.Running && job.Attempts < attempt)
        {
            // An earlier attempt started and never said how it ended; a local host may have recorded why already.
            await attempts.RecordFailureAsync(job.Dataset, job.JobId, job.Attempts,
                $"Attempt {job.Attempts} stopped without finishing: the trainer crashed, was killed or lost its " +
                    $"replica.", ct);
            job = await jobs.ReadAsync(job.Dataset, ct) ?? job;
        }
        if (attempt > options.Value.JobMaxAttempts)
        {
            await storage.TrainingPoisonQueue.SendMessageAsync(received.Body, cancellationToken: ct);
            var why = string.Join(" ", job.FailedAttempts.Select(a => a.Reason));
            await FinishAsync(job, TrainingState.Failed,
                $"The trainer stopped without finishing {attempt - 1} times (a crash or a kill); the job's message " +
                    $"is in {StorageNames.TrainingPoisonQueue}. {why}".TrimEnd(), null, null, ct);
            await keeper.DeleteAsync(ct);
            return true;
        }

        if (leaseFile is not null)
        {
            var lease = new JobLease(received.MessageId, keeper.PopReceipt, job.Dataset, job.JobId, attempt);
            lease.Write(leaseFile);
            keeper.ReceiptChanged = receipt => (lease with { PopReceipt = receipt }).Write(leaseFile);
        }
        try
        {
            var (latest, _) = await versions.ReadLatestAsync(job.Dataset, ct);
            if (latest?.JobId == job.JobId)
            {
                // An earlier attempt promoted this job's version and died before saying so.
                await FinishAsync(job, TrainingState.Succeeded, null, true, latest.Metrics, ct);
            }
            else await RunAsync(job, attempt, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await HandBackAsync(job, attempt, keeper);
            throw;
        }
        finally
        {
            if (leaseFile is not null) JobLease.Delete(leaseFile);
        }
        // The dispatcher, watching the job, queues whatever waited for it.
        await keeper.DeleteAsync(ct);
        return true;
    }

    /// <summary>
    /// Queued again and the message visible now; state first, so the next trainer never finds it running.
    /// </summary>
    private async Task HandBackAsync(TrainingJob job, int attempt, MessageKeeper keeper)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await attempts.HandBackAsync(job.Dataset, job.JobId, attempt, timeout.Token);
            await keeper.ReleaseAsync(timeout.Token);
            logger.LogInformation("Stopping: job {JobId} of {Dataset} handed back, queued again (attempt {Attempt} " +
                "not counted)", job.JobId, job.Dataset, attempt);
        }
        catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException
            or OperationCanceledException)
        {
            logger.LogWarning(e,
                "Could not hand back job {JobId} of {Dataset}; it is retried after its visibility timeout", job.JobId,
                job.Dataset);
        }
    }

    private async Task RunAsync(TrainingJob job, int attempt, CancellationToken ct)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"pipeline-job-{job.JobId}-{Guid.NewGuid():N}");
        try
        {
            IReadOnlyList<DatasetImage> current;
            using (var listing = Telemetry.Source.StartActivity("list images"))
            {
                current = await images.ListAsync(job.Dataset, ct);
                listing?.SetTag("pipeline.images", current.Count);
            }
            var kind = (await images.ReadSettingsAsync(job.Dataset, ct)).Kind;
            await jobs.UpdateAsync(job.Dataset, j => j?.JobId != job.JobId ? null : j with
            {
                State = TrainingState.Running,
                Attempts = attempt,
                StartedAt = DateTimeOffset.UtcNow,
                Progress = null,
                Reason = null,
                // What this run trains on is what the dataset holds now, which may be more than when it was queued.
                Trained = new TrainedImages(DispatchRules.Fingerprint(current, j.Options, kind),
                    current.Count(i => i.Split == Split.Train), current.Count(i => i.Split == Split.Test)),
            }, ct);
            logger.LogInformation("Training job {JobId} of {Dataset}, attempt {Attempt}: {Images} images",
                job.JobId, job.Dataset, attempt, current.Count);
            // Read from storage straight into the run's image cache, as it decodes: nothing is copied to disk.
            var source = new BlobImageSource(storage, job.Dataset, current,
                await ReadSettingsAsync(job.Dataset, ct));

            TrainingOutcome outcome;
            await using (var progress = new ProgressWriter(jobs, job, logger))
            {
                try
                {
                    // Caches that spill go to the job's folder: one disk to size, one folder to delete.
                    outcome = await TrainingRun.RunAsync(new TrainingRequest(source.Description, null,
                        Path.Combine(folder, "out"), job.Options, job.Dataset, job.JobId,
                        Math.Max(0, options.Value.TrainerMemoryCapMB), CacheFolder: folder)
                    {
                        Source = source,
                    }, progress, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // libtorch's native stack goes to the log only.
                    var reason = e is DatasetRefusedException ? e.Message
                        : FailureReason.Of($"Training failed: {e.Message}");
                    logger.LogError(e, "Job {JobId} of {Dataset} failed: {Reason}", job.JobId, job.Dataset, reason);
                    await FinishAsync(job, TrainingState.Failed, reason, null, null, ct);
                    return;
                }
            }

            // The report lists the uploads the split refused beside the files the trainer skipped; it is uploaded with
            // the version.
            ReportWriter.TryWrite(outcome,
                (await rejections.ListAsync(job.Dataset, ct)).Select(r => new SkippedFile(r.Path, r.Reason)).ToList(),
                e => logger.LogWarning(e, "No report for job {JobId} of {Dataset}", job.JobId, job.Dataset));
            using (Telemetry.Source.StartActivity("upload model"))
                await versions.UploadAsync(job.Dataset, job.JobId, outcome.ModelFolder, ct);
            PromotionDecision promotion;
            using (var promoting = Telemetry.Source.StartActivity("promotion"))
            {
                promoting?.SetTag(Telemetry.ModelVersionTag, job.JobId);
                promotion = await Promotion.DecideAndPromoteAsync(versions, job, outcome.Manifest, outcome.ModelFolder,
                    source, ct);
                promoting?.SetTag("pipeline.promoted", promotion.Promoted);
                promoting?.SetTag("pipeline.reason", promotion.Reason);
            }
            logger.LogInformation("Job {JobId} of {Dataset} done: {Decision}",
                job.JobId, job.Dataset, promotion.Reason);
            await FinishAsync(job, TrainingState.Succeeded, promotion.Promoted ? null : promotion.Reason,
                promotion.Promoted, outcome.Manifest.Metrics, ct);
            // After the job shows succeeded: status answers with the promoted version and its job's end together.
            await ApplyRetentionAsync(job.Dataset, ct);
        }
        finally
        {
            try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>Removes the oldest versions past Pipeline__KeepVersions; failing to is a warning, never a failed
    /// job.</summary>
    private async Task ApplyRetentionAsync(string dataset, CancellationToken ct)
    {
        // The job has succeeded by now: stopping here must not hand it back, so nothing escapes, cancellation neither.
        try { await retention.ApplyAsync(dataset, ct); }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not remove old model versions of {Dataset}; the next job tries again", dataset);
        }
    }

    /// <summary>The dataset's dataset.json (multiclass or multilabel), when there is one: the trainer refuses one it
    /// cannot parse.</summary>
    private async Task<byte[]?> ReadSettingsAsync(string dataset, CancellationToken ct)
    {
        try
        {
            return (await storage.Uploads.GetBlobClient(BlobPaths.DatasetSettings(dataset)).DownloadContentAsync(ct))
                .Value.Content.ToArray();
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404) { return null; }
    }

    private async Task FinishAsync(TrainingJob job, TrainingState state, string? reason, bool? promoted,
        Metrics? metrics, CancellationToken ct)
    {
        Activity.Current?.SetTag("pipeline.job_state", state.ToString());
        Telemetry.JobsFinished.Add(1, new("pipeline.job_state", state.ToString()),
            new("pipeline.promoted", promoted ?? false));
        await jobs.UpdateAsync(job.Dataset, j => j?.JobId != job.JobId ? null : j with
        {
            State = state,
            Reason = reason,
            Promoted = promoted,
            Metrics = metrics ?? j.Metrics,
            FinishedAt = DateTimeOffset.UtcNow,
        }, ct);
    }
}
