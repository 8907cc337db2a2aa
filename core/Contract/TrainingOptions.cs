namespace Pipeline.Core.Contract;

/// <summary>
/// How a model is trained. Travels in training-job messages, <c>train.json</c> control blobs and the trainer's command line,
/// and is recorded in model.json. Every field has a default, so <c>{}</c> is a valid set of options.
/// </summary>
public sealed partial record TrainingOptions
{
    /// <summary>Seed for splits, augmentation, dropout and initialisation: the same seed and data give the same model.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Share of the training images held out as validation (early stopping, best epoch, thresholds).</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>How images become 224x224: <c>crop</c> keeps the aspect ratio and crops the centre; <c>squash</c> stretches.</summary>
    public string Resize { get; init; } = "crop";

    // Stage 1: frozen backbone, head trained on the plain images' cached features.
    public int HeadEpochs { get; init; } = 60;
    public string HeadOptimizer { get; init; } = "adamw";
    public double HeadLearningRate { get; init; } = 0.001;
    public double Dropout { get; init; } = 0.4;
    public double WeightDecay { get; init; } = 0.0001;
    /// <summary>Label smoothing of the fine-tuning loss (the frozen head trains without).</summary>
    public double LabelSmoothing { get; init; } = 0.1;
    /// <summary>Augmented views per training image cached in the frozen pass for fine-tuning (besides the plain one).</summary>
    public int AugmentedViews { get; init; } = 4;

    // Stage 2: fine-tune the top of the backbone at a lower learning rate, kept only if it beats the frozen head on
    // validation loss. 0 epochs turns it off (the fast setting).
    public int FineTuneEpochs { get; init; } = 4;
    /// <summary>How many of the backbone's last stages are trained in stage 2 (1 = layer4).</summary>
    public int FineTuneStages { get; init; } = 1;
    public double FineTuneLearningRate { get; init; } = 0.0001;

    public int BatchSize { get; init; } = 32;
    /// <summary>Epochs without a better validation loss before a stage stops.</summary>
    public int Patience { get; init; } = 10;
    /// <summary>Average the prediction of the image and its mirror image.</summary>
    public bool FlipTestTimeAugmentation { get; init; } = true;
    /// <summary>Weight the loss by inverse label frequency so that small labels count.</summary>
    public bool BalanceLabels { get; init; } = true;

    public AugmentationOptions Augmentation { get; init; } = new();

    /// <summary>Frozen backbone only, on the plain images: a model in the least time.</summary>
    public static TrainingOptions Fast { get; } = new() { FineTuneEpochs = 0, AugmentedViews = 0, HeadEpochs = 40 };
}

/// <summary>Keras ImageDataGenerator's augmentations plus colour jitter, applied on tensors in batches. 0 turns one off.</summary>
public sealed record AugmentationOptions
{
    public double RotationDegrees { get; init; } = 15;
    public double WidthShift { get; init; } = 0.1;
    public double HeightShift { get; init; } = 0.1;
    public double ShearDegrees { get; init; } = 5;
    /// <summary>Zoom range as in Keras: scale drawn from [1 - Zoom, 1 + Zoom].</summary>
    public double Zoom { get; init; } = 0.15;
    public bool HorizontalFlip { get; init; } = true;
    public double Brightness { get; init; } = 0.2;
    public double Contrast { get; init; } = 0.2;
    public double Saturation { get; init; } = 0.2;
}
