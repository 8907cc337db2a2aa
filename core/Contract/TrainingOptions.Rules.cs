using System.Text.Json;

namespace Pipeline.Core.Contract;

/// <summary>The one rule for training options, wherever they come from: the API, train.json, --options files and
/// flags.</summary>
public sealed partial record TrainingOptions
{
    /// <summary>
    /// Every option a user sets, in the order the trainer's help lists them. A new option added here gets its flag, its
    /// help with its default and its rule; options not listed here (none today) are validated by nothing.
    /// </summary>
    public static IReadOnlyList<TrainingOption> All { get; } =
    [
        TrainingOption.Int("--seed", "seed", "seed for splits, augmentation and initialisation",
            o => o.Seed, (o, v) => o with { Seed = v }, min: 0),
        TrainingOption.Choice("--resize", "resize", "keep the aspect ratio and crop the centre, or stretch",
            o => o.Resize, (o, v) => o with { Resize = v }, "crop", "squash"),
        TrainingOption.Real("--validation", "validationFraction",
            "share of train held out for early stopping and thresholds",
            o => o.ValidationFraction, (o, v) => o with { ValidationFraction = v }, "fraction", below: 0.9),
        TrainingOption.OptionalReal("--budget", "budgetMinutes",
            "minutes the run may take to a model; what does not fit is left out and named in model.json",
            o => o.BudgetMinutes, (o, v) => o with { BudgetMinutes = v }, "minutes", "none", positive: true),
        TrainingOption.Choice("--head-optimizer", "headOptimizer",
            "stage 1: lbfgs (softmax regression, L2, scaling and layer3 features chosen by cross-validation, " +
            "refitted on all training images), or a gradient head (rmsprop: the Keras seed's)",
            o => o.HeadOptimizer, (o, v) => o with { HeadOptimizer = v }, "lbfgs", "adamw", "adam", "rmsprop", "sgd"),
        TrainingOption.OptionalReal("--head-l2", "headL2",
            "L2 strength of the lbfgs head, on features standardised each apart",
            o => o.HeadL2, (o, v) => o with { HeadL2 = v }, "strength", "cross-validated"),
        TrainingOption.Choice("--head-features", "headFeatures",
            "pooled features of the lbfgs head: auto (cross-validation chooses), layer4, or layer3+4",
            o => o.HeadFeatures, (o, v) => o with { HeadFeatures = v }, "auto", "layer4", "layer3+4"),
        TrainingOption.Int("--folds", "crossValidationFolds", "cross-validation folds of the lbfgs head",
            o => o.CrossValidationFolds, (o, v) => o with { CrossValidationFolds = v }, min: 2, max: 20),
        TrainingOption.Int("--head-epochs", "headEpochs", "epochs of a gradient head",
            o => o.HeadEpochs, (o, v) => o with { HeadEpochs = v }, min: 1),
        TrainingOption.Real("--head-lr", "headLearningRate", "learning rate of a gradient head",
            o => o.HeadLearningRate, (o, v) => o with { HeadLearningRate = v }, "rate", positive: true),
        TrainingOption.SwitchOff("--float", "int8",
            "keep the backbone in float on a CPU (default: int8, calibrated on " +
            "training images)", o => o.Int8, o => o with { Int8 = false }),
        TrainingOption.Choice("--fine-tune", "fineTune",
            "auto: tried only within a --budget, below --fine-tune-below cross-validated accuracy, with " +
            "--fine-tune-min-per-label images a label; kept only where it beats the frozen head on validation by 1.5 " +
            "standard errors",
            o => o.FineTune, (o, v) => o with { FineTune = v }, "auto", "always", "never"),
        TrainingOption.Real("--fine-tune-below", "fineTuneBelowAccuracy",
            "auto: the frozen head's cross-validated accuracy from which fine-tuning is not tried",
            o => o.FineTuneBelowAccuracy, (o, v) => o with { FineTuneBelowAccuracy = v }, "accuracy", below: 1.000001),
        TrainingOption.Int("--fine-tune-min-per-label", "fineTuneMinimumPerLabel",
            "auto: training images a label needs on average before fine-tuning is tried",
            o => o.FineTuneMinimumPerLabel, (o, v) => o with { FineTuneMinimumPerLabel = v }, min: 0),
        TrainingOption.Int("--views", "augmentedViews",
            "augmented views per training image, computed once fine-tuning is tried (0: flipped and shifted activation "
                + "maps)",
            o => o.AugmentedViews, (o, v) => o with { AugmentedViews = v }, min: 0),
        TrainingOption.Int("--fine-tune-epochs", "fineTuneEpochs", "stage 2 epochs; 0 turns fine-tuning off",
            o => o.FineTuneEpochs, (o, v) => o with { FineTuneEpochs = v }, min: 0),
        TrainingOption.Int("--fine-tune-stages", "fineTuneStages", "backbone stages trained in stage 2, from the top",
            o => o.FineTuneStages, (o, v) => o with { FineTuneStages = v }, min: 0, max: 4),
        TrainingOption.Real("--fine-tune-lr", "fineTuneLearningRate",
            "stage 2 learning rate of the backbone (a gradient head gets 10x)",
            o => o.FineTuneLearningRate, (o, v) => o with { FineTuneLearningRate = v }, "rate", positive: true),
        TrainingOption.Real("--dropout", "dropout", "dropout before the dense layer of a gradient head",
            o => o.Dropout, (o, v) => o with { Dropout = v }, "rate", below: 1),
        TrainingOption.Real("--weight-decay", "weightDecay", "weight decay of both stages",
            o => o.WeightDecay, (o, v) => o with { WeightDecay = v }, "rate"),
        TrainingOption.Real("--label-smoothing", "labelSmoothing", "label smoothing while fine-tuning",
            o => o.LabelSmoothing, (o, v) => o with { LabelSmoothing = v }, "eps", below: 1),
        TrainingOption.Int("--batch-size", "batchSize", "images per batch",
            o => o.BatchSize, (o, v) => o with { BatchSize = v }, min: 1),
        TrainingOption.Int("--patience", "patience", "epochs without a better validation loss before a stage stops",
            o => o.Patience, (o, v) => o with { Patience = v }, min: 1),
        TrainingOption.Switch("--flip-tta", "flipTestTimeAugmentation", "average with the mirror image at test time",
            o => o.FlipTestTimeAugmentation, o => o with { FlipTestTimeAugmentation = true },
                "where it helps a fine-tuned model"),
        TrainingOption.Switch("--no-flip-tta", "flipTestTimeAugmentation",
            "do not average with the mirror image at test time",
            o => o.FlipTestTimeAugmentation, o => o with { FlipTestTimeAugmentation = false },
                "where it helps a fine-tuned model"),
        TrainingOption.SwitchOff("--no-balance", "balanceLabels", "do not weight the loss by inverse label frequency",
            o => o.BalanceLabels, o => o with { BalanceLabels = false }),
        TrainingOption.Real("--rotation", "augmentation.rotationDegrees", "random rotation",
            o => o.Augmentation.RotationDegrees, (o, v)
                => o with { Augmentation = o.Augmentation with { RotationDegrees = v } },
            "degrees", below: 180),
        TrainingOption.Real("--shift", "augmentation.widthShift", "random shift, width and height",
            o => o.Augmentation.WidthShift,
            (o, v) => o with { Augmentation = o.Augmentation with { WidthShift = v, HeightShift = v } }, "fraction",
                below: 1),
        TrainingOption.Real("--height-shift", "augmentation.heightShift", "random height shift (after --shift)",
            o => o.Augmentation.HeightShift, (o, v)
                => o with { Augmentation = o.Augmentation with { HeightShift = v } },
            "fraction", below: 1),
        TrainingOption.Real("--shear", "augmentation.shearDegrees", "random shear",
            o => o.Augmentation.ShearDegrees, (o, v)
                => o with { Augmentation = o.Augmentation with { ShearDegrees = v } },
            "degrees", below: 90),
        TrainingOption.Real("--zoom", "augmentation.zoom", "random zoom, scale from 1 - zoom to 1 + zoom",
            o => o.Augmentation.Zoom, (o, v) => o with { Augmentation = o.Augmentation with { Zoom = v } }, "fraction",
                below: 1),
        TrainingOption.SwitchOff("--no-hflip", "augmentation.horizontalFlip", "no horizontal flips",
            o => o.Augmentation.HorizontalFlip, o
                => o with { Augmentation = o.Augmentation with { HorizontalFlip = false } }),
        TrainingOption.Real("--brightness", "augmentation.brightness", "random brightness change",
            o => o.Augmentation.Brightness, (o, v) => o with { Augmentation = o.Augmentation with { Brightness = v } },
            "fraction", below: 1),
        TrainingOption.Real("--contrast", "augmentation.contrast", "random contrast change",
            o => o.Augmentation.Contrast, (o, v) => o with { Augmentation = o.Augmentation with { Contrast = v } },
            "fraction", below: 1),
        TrainingOption.Real("--saturation", "augmentation.saturation", "random saturation change",
            o => o.Augmentation.Saturation, (o, v) => o with { Augmentation = o.Augmentation with { Saturation = v } },
            "fraction", below: 1),
    ];

    /// <summary>What is wrong with these options, one sentence per option (empty when they are valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Augmentation is null) problems.Add("augmentation must be an object (or left out for the defaults), not "
            + "null.");
        else problems.AddRange(All.Select(option => option.Problem(this)).OfType<string>());
        return problems;
    }

    /// <summary>Parses and validates training options as a user wrote them; null with the reasons when they are not
    /// valid.</summary>
    public static TrainingOptions? Parse(string json, out string? reason)
    {
        reason = null;
        if (string.IsNullOrWhiteSpace(json)) return new TrainingOptions();
        TrainingOptions? parsed;
        try { parsed = JsonSerializer.Deserialize<TrainingOptions>(json, Json.Options); }
        catch (JsonException e) { reason = $"The training options are not valid JSON: {e.Message}"; return null; }
        if (parsed is null) { reason = "The training options are null; send {} for the defaults."; return null; }
        var problems = parsed.Validate();
        if (problems.Count == 0) return parsed;
        reason = string.Join(' ', problems);
        return null;
    }
}
