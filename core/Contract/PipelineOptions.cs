namespace Pipeline.Core.Contract;

/// <summary>Settings of the pipeline, bound from the <c>Pipeline</c> section (<c>Pipeline__QuietPeriodSeconds</c> as an
/// app setting).</summary>
public sealed class PipelineOptions
{
    public const string Section = "Pipeline";

    /// <summary>Share of images put in the test split when the user gave no split; a dataset's dataset.json may
    /// override it.</summary>
    public double TestFraction { get; set; } = 0.2;

    /// <summary>Seconds without a new image before a dataset is trained by itself; 0 turns automatic training
    /// off.</summary>
    public int QuietPeriodSeconds { get; set; } = 300;

    /// <summary>Use <see cref="TrainingOptions.Fast"/> when a dataset has no train.json (tests and quick local
    /// runs).</summary>
    public bool FastTraining { get; set; }

    /// <summary>How long a training message stays hidden before another replica may take it; renewed while
    /// training.</summary>
    public int JobVisibilitySeconds { get; set; } = 300;

    /// <summary>How often the dispatcher looks whether a job it queued has ended (to queue the request that
    /// waited).</summary>
    public int JobWatchSeconds { get; set; } = 10;

    /// <summary>Tries of one training job before it goes to the poison queue and shows failed.</summary>
    public int JobMaxAttempts { get; set; } = 3;

    /// <summary>How often the scorer looks for a newly promoted version of a dataset it has loaded.</summary>
    public int ModelRefreshSeconds { get; set; } = 10;

    /// <summary>
    /// Models the scoring cache keeps loaded at once (at least 1); past it the least recently used is let go, once the
    /// requests using it are done.
    /// </summary>
    public int MaxLoadedModels { get; set; } = 8;

    /// <summary>
    /// Model versions a dataset keeps (at least 1): when a new version is written, the oldest ones that no published
    /// name points to and that are not promoted are removed until this many remain.
    /// </summary>
    public int KeepVersions { get; set; } = 10;

    /// <summary>Intra-op threads of each scoring run (ONNX Runtime); 0: one per physical core, which scored fastest
    /// here with several requests at once (docs/benchmarks.md).</summary>
    public int ScoreThreads { get; set; }

    /// <summary>Days a kept prediction (predictions container) stays: the local host's sweep, Azure's lifecycle
    /// rule.</summary>
    public int KeepPredictionsDays { get; set; } = 30;

    /// <summary>Images one scoring request may carry.</summary>
    public int MaxImagesPerRequest { get; set; } = 32;

    public const int DefaultTrainerMemoryCapMB = 768;

    /// <summary>
    /// Megabytes the trainer's caches (decoded images, fine-tuning's activations) hold in memory before they spill to
    /// temporary files beside the job's download; 0 keeps none in memory. The model does not depend on it.
    /// </summary>
    public int TrainerMemoryCapMB { get; set; } = DefaultTrainerMemoryCapMB;

    public const long DefaultMaxImageBytes = 20 * 1024 * 1024;
    public const long DefaultMaxImagePixels = 40_000_000;

    /// <summary>Largest image file accepted, in uploads and in scoring requests.</summary>
    public long MaxImageBytes { get; set; } = DefaultMaxImageBytes;

    /// <summary>Most pixels an accepted image may have.</summary>
    public long MaxImagePixels { get; set; } = DefaultMaxImagePixels;
}
