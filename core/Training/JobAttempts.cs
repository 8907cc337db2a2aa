using Azure;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Training;

/// <summary>
/// Attempts of a training job that ended without an answer. Each is recorded once in training.json with what is known
/// of why, and the job shows <c>queued (retrying after a crash)</c> until the next attempt starts.
/// </summary>
public sealed class JobAttempts(PipelineStorage storage, TrainingJobStore jobs, ILogger<JobAttempts> logger)
{
    /// <summary>
    /// Records that <paramref name="attempt"/> of the job failed; false when the job moved on or it was recorded
    /// already.
    /// </summary>
    public async Task<bool> RecordFailureAsync(string dataset, string jobId, int attempt, string reason,
        CancellationToken ct)
    {
        var written = await jobs.UpdateAsync(dataset, j => j is { IsActive: true } && j.JobId == jobId
            && j.FailedAttempts.All(a => a.Attempt != attempt)
            ? j with
            {
                State = TrainingState.Queued,
                Progress = null,
                FailedAttempts = [.. j.FailedAttempts, new FailedAttempt(attempt, reason, DateTimeOffset.UtcNow)],
            }
            : null, ct);
        if (written is not null) logger.LogWarning("Attempt {Attempt} of job {JobId} of {Dataset} failed: {Reason}",
            attempt, jobId, dataset, reason);
        return written is not null;
    }

    /// <summary>
    /// A trainer stopped on request before the job ended: queued again, and <paramref name="attempt"/> is not counted
    /// (the next delivery of the message is attempt <paramref name="attempt"/> again). Call before the message shows
    /// again.
    /// </summary>
    public async Task HandBackAsync(string dataset, string jobId, int attempt, CancellationToken ct) =>
        await jobs.UpdateAsync(dataset, j => j is { IsActive: true } && j.JobId == jobId
            ? j with
            {
                State = TrainingState.Queued,
                Progress = null,
                StartedAt = null,
                Attempts = attempt - 1,
                HandBacks = j.HandBacks + 1
            }
            : null, ct);

    /// <summary>
    /// A trainer died holding <paramref name="lease"/>: the attempt is recorded as failed (<paramref name="reason"/>),
    /// or, when it was stopped on request (<paramref name="reason"/> null), handed back; the message is visible again
    /// now, so the job is retried at once instead of after its visibility timeout.
    /// </summary>
    public async Task ReleaseAsync(JobLease lease, string? reason, CancellationToken ct)
    {
        if (reason is null) await HandBackAsync(lease.Dataset, lease.JobId, lease.Attempt, ct);
        else await RecordFailureAsync(lease.Dataset, lease.JobId, lease.Attempt, reason, ct);
        try
        {
            await storage.TrainingQueue.UpdateMessageAsync(lease.MessageId, lease.PopReceipt,
                visibilityTimeout: TimeSpan.Zero, cancellationToken: ct);
            logger.LogInformation("Job {JobId} of {Dataset} is queued again for its next attempt", lease.JobId,
                lease.Dataset);
        }
        catch (RequestFailedException e)
        {
            // The receipt was renewed after the lease was written: the message comes back after its visibility timeout.
            logger.LogWarning("Could not make the message of job {JobId} visible again ({Status}); it is retried " +
                "after its visibility timeout",
                lease.JobId, e.Status);
        }
    }
}
