namespace Pipeline.Core.Contract;

/// <summary>The training queue's message: which job of which dataset. Everything else is in training.json.</summary>
public sealed record TrainingJobMessage(string Dataset, string JobId);

/// <summary>
/// The settle queue's message, always delayed. Without <see cref="JobId"/>: a new image arrived a quiet period ago;
/// with it: the dispatcher looks whether the job it queued has ended, to queue the request that waited for it.
/// </summary>
public sealed record SettleCheck(string Dataset, string? JobId = null);
