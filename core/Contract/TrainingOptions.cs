namespace Pipeline.Core.Contract;

/// <summary>
/// How a model is trained. Travels in training-job messages, <c>train.json</c> control blobs and the trainer's command
/// line,
/// and is recorded in model.json. Every field has a default, so <c>{}</c> is a valid set of options.
/// </summary>
public sealed partial record TrainingOptions
{
    /// <summary>Seed for splits, augmentation, dropout and initialisation: the same seed and data give the same
    /// model.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Share of the training images held out as validation (early stopping, best epoch, thresholds).</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>How images become 224x224: <c>crop</c> keeps the aspect ratio and crops the centre; <c>squash</c>
    /// stretches.</summary>
    public string Resize { get; init; } = "crop";

    // Stage 1: frozen backbone, head trained on the plain images' cached features.
    /// <summary>
    /// <c>lbfgs</c>: softmax regression fitted full-batch, its L2 strength cross-validated, refitted on all training
    /// images; or a gradient head trained for <see cref="HeadEpochs"/> (<c>adamw</c>, <c>adam</c>, <c>rmsprop</c>,
    /// <c>sgd</c>).
    /// </summary>
    public string HeadOptimizer { get; init; } = "lbfgs";
    /// <summary>L2 strength of the lbfgs head, on features standardised each apart; null chooses it, and the
    /// scaling, by cross-validation.</summary>
    public double? HeadL2 { get; init; }
    /// <summary>Folds of the cross-validation that chooses the lbfgs head's strength and decides on
    /// fine-tuning.</summary>
    public int CrossValidationFolds { get; init; } = 5;
    /// <summary>
    /// Pooled features the lbfgs head learns from: <c>auto</c> lets cross-validation choose between layer4's alone and
    /// layer4's with layer3's (twice the fits); <c>layer4</c>; <c>layer3+4</c>.
    /// </summary>
    public string HeadFeatures { get; init; } = "auto";
    public int HeadEpochs { get; init; } = 60;
    public double HeadLearningRate { get; init; } = 0.001;
    public double Dropout { get; init; } = 0.4;
    public double WeightDecay { get; init; } = 0.0001;
    /// <summary>Label smoothing of the fine-tuning loss (the frozen head trains without).</summary>
    public double LabelSmoothing { get; init; } = 0;
    /// <summary>
    /// Augmented views per training image computed for fine-tuning (besides the plain one), only once fine-tuning is
    /// tried; 0 fine-tunes on the plain images' activations with flips and shifts of the feature maps.
    /// </summary>
    public int AugmentedViews { get; init; } = 0;

    // Stage 2: fine-tune the top of the backbone at a lower learning rate, kept only if it beats the frozen head on
    // validation loss. 0 epochs turns it off (the fast setting).
    /// <summary>
    /// <c>auto</c>: tried only within a time budget (<see cref="BudgetMinutes"/>), where the frozen head's
    /// cross-validated accuracy is below <see cref="FineTuneBelowAccuracy"/> and labels have
    /// <see cref="FineTuneMinimumPerLabel"/> images; kept only where it clearly beats it on validation;
    /// <c>always</c>: tried wherever epochs are set; <c>never</c>.
    /// </summary>
    public string FineTune { get; init; } = "auto";
    /// <summary>With <c>auto</c>, the cross-validated accuracy of the frozen head from which fine-tuning is not
    /// tried.</summary>
    public double FineTuneBelowAccuracy { get; init; } = 0.97;
    /// <summary>
    /// With <c>auto</c>, the training images a label needs on average before fine-tuning is tried: below it, layer4's
    /// millions of weights learn the few images more than the kind of image.
    /// </summary>
    public int FineTuneMinimumPerLabel { get; init; } = 200;
    public int FineTuneEpochs { get; init; } = 4;
    /// <summary>How many of the backbone's last stages are trained in stage 2 (1 = layer4).</summary>
    public int FineTuneStages { get; init; } = 1;
    public double FineTuneLearningRate { get; init; } = 0.0001;

    /// <summary>
    /// On a CPU, run the frozen backbone's passes and the exported model in int8 (QDQ, calibrated on the training
    /// images); false keeps float. A GPU always trains in float.
    /// </summary>
    public bool Int8 { get; init; } = true;

    public int BatchSize { get; init; } = 32;
    /// <summary>Epochs without a better validation loss before a stage stops.</summary>
    public int Patience { get; init; } = 10;
    /// <summary>
    /// Average the prediction of the image and its mirror image (twice the cost of scoring); null keeps it only
    /// where it lowers the validation loss of a fine-tuned model.
    /// </summary>
    public bool? FlipTestTimeAugmentation { get; init; }
    /// <summary>Minutes the run may take to a model (Custom Vision's training budget); null for no limit.</summary>
    public double? BudgetMinutes { get; init; }
    /// <summary>Weight the loss by inverse label frequency so that small labels count.</summary>
    public bool BalanceLabels { get; init; } = true;

    public AugmentationOptions Augmentation { get; init; } = new();

    /// <summary>
    /// Frozen backbone only, on the plain images: a model in the least time. Its head takes layer4's and layer3's
    /// features without comparing them with layer4's alone, and 3 folds choose its strength: a third of the default
    /// head's fits.
    /// </summary>
    public static TrainingOptions Fast { get; } = new()
    {
        FineTune = "never", FineTuneEpochs = 0, AugmentedViews = 0, HeadEpochs = 40, FlipTestTimeAugmentation = false,
        HeadFeatures = "layer3+4", CrossValidationFolds = 3,
    };
}

/// <summary>Keras ImageDataGenerator's augmentations plus colour jitter, applied on tensors in batches. 0 turns one
/// off.</summary>
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
