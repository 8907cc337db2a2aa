namespace Pipeline.Core.Contract;

public enum TrainingState { Queued, Running, Succeeded, Failed }

/// <summary> A dataset's current or last training job, kept in <c>models/&lt;dataset&gt;/training.json</c>: the
/// dispatcher writes it queued, the trainer running (with progress) and then succeeded or failed; the status endpoint
/// reads it. Each field has one writer: the dispatcher what it queued (fingerprint, image counts, next), the trainer
/// what it did.
/// </summary>
public sealed record TrainingJob
{
    /// <summary>Also the name of the model version the job writes.</summary>
    public required string JobId { get; init; }
    public required string Dataset { get; init; }
    public required TrainingState State { get; init; }
    public required TrainingOptions Options { get; init; }
    /// <summary>What asked for it: <c>settled</c> (quiet period), <c>http</c>, <c>train.json</c> or
    /// <c>next</c>.</summary>
    public required string Trigger { get; init; }
    /// <summary>Hash of the image names (content hashes) and options: the same images and options never train
    /// twice.</summary>
    public required string Fingerprint { get; init; }
    /// <summary>Images the dispatcher queued the job for.</summary>
    public int TrainImages { get; init; }
    public int TestImages { get; init; }
    /// <summary>What the trainer found and trained when it started, which may be more than was queued.</summary>
    public TrainedImages? Trained { get; init; }
    public DateTimeOffset QueuedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public int Attempts { get; init; }
    public JobProgress? Progress { get; init; }
    public bool? Promoted { get; init; }
    /// <summary>Why it failed, or why a finished version was not promoted.</summary>
    public string? Reason { get; init; }
    public Metrics? Metrics { get; init; }
    /// <summary>A request that came while this job was queued or running; it is dispatched when this one
    /// ends.</summary>
    public TrainingRequestRecord? Next { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsActive => State is TrainingState.Queued or TrainingState.Running;
}

/// <summary>The trainer's record of the images a job trained on, fingerprinted as the dispatcher does.</summary>
public sealed record TrainedImages(string Fingerprint, int TrainImages, int TestImages);

public sealed record TrainingRequestRecord(TrainingOptions Options, string Trigger, DateTimeOffset RequestedAt);

/// <summary>How far a running job is, as the trainer last reported.</summary>
public sealed record JobProgress(string Stage, int Epoch, int Epochs, double Loss, double Accuracy,
    double? ValidationLoss, double? ValidationAccuracy, string? Message, DateTimeOffset At);

/// <summary>latest.json: the promoted version of a dataset.</summary>
public sealed record LatestModel(string Dataset, string Version, string JobId, DateTimeOffset PromotedAt,
    double TestAccuracy, Metrics? Metrics);
