namespace Pipeline.Core.Contract;

/// <summary>model.json: what a model version is, how it was made and how well it did. Written by the trainer, read by
/// the scorer and status.</summary>
public sealed record ModelManifest
{
    public required string Version { get; init; }
    public required string Dataset { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    /// <summary>"multiclass" (softmax: probabilities sum to 1) or "multilabel" (sigmoid: each label's probability on
    /// its own); versions written before multilabel datasets are multiclass.</summary>
    public string Classification { get; init; } = Contract.Classification.Multiclass;
    /// <summary>The label in <see cref="Labels"/> that means "no label" (a multiclass dataset's Negative folder);
    /// null when there is none. A multilabel model has no such output: its Negative images trained as all
    /// zeros.</summary>
    public string? NegativeLabel { get; init; }
    public required PreprocessingSpec Preprocessing { get; init; }
    public string Backbone { get; init; } = "ResNet18 (ImageNet), Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1";
    public required TrainingOptions Options { get; init; }
    /// <summary>Images per label and split ("train", "validation", "test").</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> ImageCounts { get; init; }
    public required Metrics Metrics { get; init; }
    /// <summary>Per-label decision thresholds at the best F1 on the validation split.</summary>
    public required IReadOnlyDictionary<string, double> Thresholds { get; init; }
    public required Timings Timings { get; init; }
    public required string Device { get; init; }
    public required IReadOnlyDictionary<string, string> PackageVersions { get; init; }
    public IReadOnlyList<SkippedFile> Skipped { get; init; } = [];
    public IReadOnlyList<EpochRecord> History { get; init; } = [];
    /// <summary>Which path the training recipe took and why; null in versions trained before it was recorded.</summary>
    public Recipe? Recipe { get; init; }
    /// <summary>Memory and disk the run's caches took; null in versions trained before it was recorded.</summary>
    public CacheUse? Caches { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>How pixels reach the model: resize to Size x Size, BGR channel order, 0-255 values; model.onnx subtracts
/// the mean image itself.</summary>
public sealed record PreprocessingSpec(int Size, string Resize, string ChannelOrder = "BGR",
    string ValueRange = "0-255", string Input = "pixels", string Output = "probabilities");

public sealed record Metrics
{
    public double Accuracy { get; init; }
    public double MacroF1 { get; init; }
    public double LogLoss { get; init; }
    public IReadOnlyDictionary<string, LabelMetrics> PerLabel { get; init; } = new Dictionary<string, LabelMetrics>();
    /// <summary>Rows: true label; columns: predicted label; in <see cref="ModelManifest.Labels"/> order.</summary>
    public IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix { get; init; } = [];
    public int TestImages { get; init; }
    /// <summary>Multilabel only: mean over labels of the average precision, micro-averaged F1, and per label the
    /// true and false positives and negatives at its threshold (in place of the confusion matrix). Accuracy is then
    /// exact-match accuracy (every label of an image right) and log loss the mean binary cross-entropy.</summary>
    public double? MeanAveragePrecision { get; init; }
    public double? MicroF1 { get; init; }
    public IReadOnlyDictionary<string, LabelOutcomes>? Outcomes { get; init; }
}

/// <param name="AveragePrecision">Area under the precision-recall curve (multilabel models only).</param>
public sealed record LabelMetrics(double Precision, double Recall, double F1, int Support,
    double? AveragePrecision = null);

/// <summary>A label's test images by outcome at its threshold: the multilabel report's table.</summary>
public sealed record LabelOutcomes(int TruePositives, int FalsePositives, int FalseNegatives, int TrueNegatives);

public sealed record Timings(double LoadSeconds, double FeatureSeconds, double HeadSeconds, double FineTuneSeconds,
    double EvaluateSeconds, double TotalSeconds,
    double FeatureImagesPerSecond, double FineTuneImagesPerSecond);

/// <summary>
/// The training run's caches (decoded images, activations of the fine-tuned stages): the memory cap they ran under,
/// the most they held in memory and the most they wrote to disk (temporary files, deleted after the run).
/// </summary>
public sealed record CacheUse(int MemoryCapMB, double MemoryMB, double DiskMB);

public sealed record SkippedFile(string Path, string Reason);

public sealed record EpochRecord(string Stage, int Epoch, double TrainLoss, double TrainAccuracy, double ValidationLoss,
    double ValidationAccuracy, bool Best);

/// <summary>
/// What the recipe decided for one run: the head, whether fine-tuning was tried and kept, how many augmented views were
/// computed, whether the mirror average is in model.onnx, and what a time budget left out.
/// </summary>
public sealed record Recipe
{
    /// <summary>How the head was fitted, e.g. "lbfgs, L2 0.003 chosen by 5-fold cross-validation".</summary>
    public string Head { get; init; } = "";
    /// <summary>Accuracy and log loss of the frozen head in cross-validation over all training images (lbfgs
    /// only).</summary>
    public double? CrossValidatedAccuracy { get; init; }
    public double? CrossValidatedLogLoss { get; init; }
    /// <summary>"not tried: ...", "kept: ..." or "not kept: ...", with the reason.</summary>
    public string FineTune { get; init; } = "";
    public bool FineTuned { get; init; }
    /// <summary>Augmented views computed through the backbone per training image (0: none, the cheap path).</summary>
    public int AugmentedViews { get; init; }
    public bool FlipAverage { get; init; }
    /// <summary>The backbone's arithmetic in model.onnx, e.g. "int8" or "int8 up to layer4, float from
    /// there".</summary>
    public string Precision { get; init; } = "float";
    public string FlipAverageReason { get; init; } = "";
    /// <summary>Where the thresholds come from: out-of-fold probabilities or the validation split.</summary>
    public string Thresholds { get; init; } = "";
    public IReadOnlyList<string> LeftOut { get; init; } = [];
}
