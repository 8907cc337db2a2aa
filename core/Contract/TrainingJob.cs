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
    /// <summary>The W3C trace id of the run that queued it (the split, dispatch, the trainer's stages and promotion
    /// are its spans); written by the dispatcher.</summary>
    public string? TraceId { get; init; }
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
    /// <summary>
    /// Attempts that ended without an answer (the trainer crashed, was killed or lost its replica), oldest first.
    /// </summary>
    public IReadOnlyList<FailedAttempt> FailedAttempts { get; init; } = [];
    /// <summary>
    /// How often a trainer stopped on request (SIGTERM) and handed the job back; those are not attempts.
    /// </summary>
    public int HandBacks { get; init; }

    /// <summary>
    /// The state as a user reads it: <c>queued (retrying after a crash)</c> once an attempt has failed.
    /// </summary>
    public string Status => State switch
    {
        TrainingState.Queued when FailedAttempts.Count > 0 => "queued (retrying after a crash)",
        TrainingState.Running when Attempts > 1 => $"running (attempt {Attempts})",
        _ => State.ToString().ToLowerInvariant(),
    };

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsActive => State is TrainingState.Queued or TrainingState.Running;
}

/// <summary>The trainer's record of the images a job trained on, fingerprinted as the dispatcher does.</summary>
public sealed record TrainedImages(string Fingerprint, int TrainImages, int TestImages);

/// <summary>One attempt of a job that ended without an answer, and what is known of why.</summary>
public sealed record FailedAttempt(int Attempt, string Reason, DateTimeOffset At);

public sealed record TrainingRequestRecord(TrainingOptions Options, string Trigger, DateTimeOffset RequestedAt);

/// <summary>How far a running job is, as the trainer last reported.</summary>
public sealed record JobProgress(string Stage, int Epoch, int Epochs, double Loss, double Accuracy,
    double? ValidationLoss, double? ValidationAccuracy, string? Message, DateTimeOffset At);

/// <summary>latest.json: the promoted version of a dataset.</summary>
public sealed record LatestModel(string Dataset, string Version, string JobId, DateTimeOffset PromotedAt,
    double TestAccuracy, Metrics? Metrics);
