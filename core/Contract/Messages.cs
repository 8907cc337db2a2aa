namespace Pipeline.Core.Contract;

/// <summary>The training queue's message: which job of which dataset. Everything else is in training.json.</summary>
public sealed record TrainingJobMessage(string Dataset, string JobId);

/// <summary>
/// The settle queue's message. Without <see cref="FinishedJob"/>: a new image arrived, delayed by the quiet period;
/// with it: the trainer ended that job, so the dispatcher may queue the request that waited for it.
/// </summary>
public sealed record SettleCheck(string Dataset, string? FinishedJob = null);
