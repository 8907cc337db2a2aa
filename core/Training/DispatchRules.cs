using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Training;

public enum DispatchResult
{
    Queued, AlreadyQueued, QueuedNext, UpToDate, NoImages, NotSettled, UnknownDataset,
    /// <summary>The dataset has too few labels or images a label (<see cref="Datasets.Trainability"/>).</summary>
    NotTrainable,
}

/// <summary>A request to train <see cref="Dataset"/>'s current images (named by <see cref="Fingerprint"/>).</summary>
public sealed record DispatchRequest(string Dataset, TrainingOptions Options, string Trigger, bool Force,
    string Fingerprint,
    int TrainImages, int TestImages, string? TraceId = null);

/// <summary>What to answer (<see cref="Job"/> is the job the answer is about) and what to write to
/// training.json.</summary>
public sealed record DispatchDecision(DispatchResult Result, TrainingJob? Job, TrainingJob? Write, string Message);

/// <summary> When a dataset trains, as pure functions of training.json and the request; <see cref="TrainingDispatch"/>
/// applies them under training.json's ETag, so a dispatcher that lost a race decides again on what the winner wrote.
/// </summary>
public static class DispatchRules
{
    /// <summary> Queue a job for images and options not trained yet; remember the request as the next one while a job
    /// is queued or running; nothing for images and options queued, running or trained already, unless a forced request
    /// finds them failed.
    /// </summary>
    public static DispatchDecision Decide(TrainingJob? current, DispatchRequest request, DateTimeOffset now)
    {
        if (current is { IsActive: true })
        {
            var state = current.State.ToString().ToLowerInvariant();
            if (Covers(current, request.Fingerprint))
                return new(DispatchResult.AlreadyQueued, current, null,
                    $"Job {current.JobId} is already {state} for these images.");
            if (current.Next?.Options == request.Options)
                return new(DispatchResult.AlreadyQueued, current, null,
                    $"Job {current.JobId} is {state}; a run with these options is already due after it.");
            var waiting = current with { Next = new TrainingRequestRecord(request.Options, request.Trigger, now) };
            return new(DispatchResult.QueuedNext, current, waiting,
                $"Job {current.JobId} is {state}; the new images train when it ends.");
        }
        if (current is not null && Covers(current,
            request.Fingerprint) && !(request.Force && current.State == TrainingState.Failed))
            return new(DispatchResult.UpToDate, current, null,
                $"Job {current.JobId} already trained on these images with these options " +
                    $"({current.State.ToString().ToLowerInvariant()}).");

        var created = new TrainingJob
        {
            JobId = $"{now:yyyyMMdd-HHmmss}-{request.Fingerprint[..6]}",
            Dataset = request.Dataset,
            State = TrainingState.Queued,
            Options = request.Options,
            Trigger = request.Trigger,
            Fingerprint = request.Fingerprint,
            TraceId = request.TraceId,
            TrainImages = request.TrainImages,
            TestImages = request.TestImages,
            QueuedAt = now,
        };
        return new(DispatchResult.Queued, created, created, $"Queued job {created.JobId}.");
    }

    /// <summary>The request that waited for a job that has ended, and training.json without it; null when none
    /// waits.</summary>
    public static (TrainingRequestRecord Next, TrainingJob Write)? TakeNext(TrainingJob? current) =>
        current is { IsActive: false, Next: { } next } ? (next, current with { Next = null }) : null;

    /// <summary> Whether no image has arrived for the quiet period. A check that finds a later image sends itself again
    /// for the rest of it; a small tolerance covers clock skew between the storage and this host.
    /// </summary>
    public static bool Settled(DateTimeOffset newestImage, DateTimeOffset now, TimeSpan quietPeriod) =>
        now - newestImage >= quietPeriod - TimeSpan.FromSeconds(2);

    /// <summary>Names a set of images and options: the image names are content hashes, so equal means the same
    /// training.</summary>
    /// <param name="classification">The dataset's kind: a dataset made multilabel is new training for the same
    /// images (a multiclass one's fingerprint is what it always was).</param>
    public static string Fingerprint(IEnumerable<DatasetImage> images, TrainingOptions options,
        string classification = Classification.Multiclass)
    {
        var text = new StringBuilder(JsonSerializer.Serialize(options, Json.Options));
        if (Classification.IsMultilabel(classification))
            text.Append("\nclassification:").Append(Classification.Multilabel);
        foreach (var image in images.OrderBy(i => i.Split).ThenBy(i => i.BlobName, StringComparer.Ordinal))
            text.Append('\n').Append(image.Split).Append(':').Append(image.BlobName);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    // What the dispatcher queued, or what the trainer found and trained when it started (more images, maybe).
    private static bool Covers(TrainingJob job, string fingerprint) =>
        job.Fingerprint == fingerprint || job.Trained?.Fingerprint == fingerprint;
}
