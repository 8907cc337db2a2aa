namespace Pipeline.Core.Contract;

/// <summary>
/// The training queue's message: which job of which dataset, and the dispatch's span as a W3C traceparent, so the
/// job's spans join the dataset run's trace. Everything else is in training.json.
/// </summary>
public sealed record TrainingJobMessage(string Dataset, string JobId, string? TraceParent = null);

/// <summary>
/// The settle queue's message, always delayed. Without <see cref="JobId"/>: the dataset's one pending settle check,
/// due at <see cref="DueAt"/> (<see cref="DatasetActivity.CheckDueAt"/>; a message due at another time is a stray and
/// does nothing); with it: the dispatcher looks whether the job it queued has ended, to queue the request that waited
/// for it. <see cref="TraceParent"/>: the span that sent it (the upload's split, or the dispatch), whose trace goes on.
/// </summary>
public sealed record SettleCheck(string Dataset, string? JobId = null, string? TraceParent = null,
    DateTimeOffset? DueAt = null);
