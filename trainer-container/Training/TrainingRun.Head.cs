using System.Diagnostics;
using Pipeline.Core.Contract;
using Pipeline.Trainer.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>Stage 1: the head on the frozen backbone's cached features.</summary>
public static partial class TrainingRun
{
    /// <param name="Strength">The lbfgs head's L2 strength; null for a gradient head.</param>
    /// <param name="Labels">Labels of train then validation rows, the order of the out-of-fold probabilities.</param>
    /// <param name="Columns">Feature columns the head uses: layer4's 512, or with layer3's 256 after them.</param>
    /// <param name="Scaling">How the lbfgs head scaled its features.</param>
    /// <param name="CrossValidatedRows">The rows (train then validation) the cross-validation's out-of-fold
    /// probabilities are of; null: all.</param>
    private sealed record HeadFit(Recipe Recipe, CrossValidation? CrossValidation, double? Strength, long[] Labels,
        double Seconds, int Columns = Classifier.Inputs, FeatureScaling Scaling = FeatureScaling.EachApart,
        int[]? CrossValidatedRows = null);

    /// <summary>
    /// Images the head's cross-validation chooses on, at most: beyond a few thousand the choice barely moves while
    /// its fits (four candidates, five folds, seven strengths) grow with every image; the model is still fitted on all.
    /// </summary>
    public const int CrossValidationImages = 5000;

    private static HeadFit FitHead(Classifier model, FeatureCache train, FeatureCache validation, double[] weights,
        TrainingOptions options, IProgress<TrainingProgress>? progress, List<EpochRecord> history, Stopwatch clock,
        CancellationToken ct)
    {
        var start = clock.Elapsed;
        var labels = train.Labels.Concat(validation.Labels).ToArray();
        if (options.HeadOptimizer.Equals("lbfgs", StringComparison.OrdinalIgnoreCase))
            return FitLbfgsHead(model, train, validation, labels, weights, options, progress, history, clock, start,
                ct);

        using var labelWeights = tensor(weights.Select(w => (float)w).ToArray(), device: train.Features.device);
        // A gradient head learns from the plain images without smoothing, its epochs judged on the validation split.
        var loss = new SmoothedLoss(labelWeights, 0);
        var parameters = model.head.parameters().ToList();
        var optimizer = Optimizer(options.HeadOptimizer, parameters, options.HeadLearningRate, options.WeightDecay);
        var stage = new Stage("head", options.HeadEpochs, options.Patience, parameters,
            [(optimizer, options.HeadLearningRate)], progress, history, clock);
        var random = new Random(options.Seed);
        stage.Run(() => HeadEpoch(model, train, loss, optimizer, options.BatchSize, random),
            () => Validate(model, validation, v => v), ct);
        var recipe = new Recipe
        {
            Head = $"{options.HeadOptimizer}, {options.HeadEpochs} epochs at most", Thresholds = "validation",
        };
        return new HeadFit(recipe, null, null, labels, stage.Seconds);
    }

    /// <summary>
    /// Softmax regression on every training image (train and validation together): the strength chosen by k-fold
    /// cross-validation unless given, then refitted on all of them.
    /// </summary>
    private static HeadFit FitLbfgsHead(Classifier model, FeatureCache train, FeatureCache validation, long[] labels,
        double[] weights, TrainingOptions options, IProgress<TrainingProgress>? progress, List<EpochRecord> history,
        Stopwatch clock, TimeSpan start, CancellationToken ct) =>
        FitConvexHead(model, train, validation, HeadTargets.OneHot(labels, model.Labels, weights), "lbfgs", options,
            progress, history, clock, start, ct);

    /// <summary>
    /// A multilabel dataset's head: one logistic regression per label (sigmoid outputs, binary cross-entropy, each
    /// label's positives and negatives weighted alike), fitted and cross-validated as the softmax head is. The
    /// gradient heads learn one label per image, so a multilabel head is always this one.
    /// </summary>
    private static HeadFit FitMultilabelHead(Classifier model, ImageSet data, FeatureCache train,
        FeatureCache validation, TrainingOptions options, IProgress<TrainingProgress>? progress,
        List<EpochRecord> history, Stopwatch clock, CancellationToken ct)
    {
        var images = data.Train.Concat(data.Validation).ToList();
        var targets = HeadTargets.MultiHot(images.Select(i => i.Targets).ToList(),
            images.Select(i => (long)i.Label).ToArray(), model.Labels, options.BalanceLabels);
        var how = options.HeadOptimizer.Equals("lbfgs", StringComparison.OrdinalIgnoreCase) ? "lbfgs"
            : $"lbfgs (not {options.HeadOptimizer}: the gradient heads are multiclass only)";
        return FitConvexHead(model, train, validation, targets, $"{how}, a sigmoid per label", options, progress,
            history, clock, clock.Elapsed, ct);
    }

    private static HeadFit FitConvexHead(Classifier model, FeatureCache train, FeatureCache validation,
        HeadTargets targets, string kind, TrainingOptions options, IProgress<TrainingProgress>? progress,
        List<EpochRecord> history, Stopwatch clock, TimeSpan start, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        var features = cat([train.Features, validation.Features], 0).cpu();
        CrossValidation? cv = null;
        var strength = options.HeadL2 ?? 0;
        var columns = options.HeadFeatures == "layer4" ? ResNetBackbone.Features : Classifier.Inputs;
        int[]? sampled = null; // the rows cross-validation chose on, where not all
        if (options.HeadL2 is null)
        {
            if (targets.Rows > CrossValidationImages)
                sampled = Sample(targets.Groups, CrossValidationImages, options.Seed);
            using var sample = sampled is null ? null : tensor(sampled.Select(r => (long)r).ToArray());
            var chooseOn = sample is null ? features : features.index_select(0, sample);
            var chooseFor = sampled is null ? targets : targets.Take(sampled);
            // Layer3's pooled features join layer4's only where cross-validation says they help (fine-grained and
            // far-from-ImageNet images, where mid-level patterns carry more than ImageNet's classes).
            CrossValidation Choose(int n) =>
                SoftmaxRegression.Choose(chooseOn.narrow(1, 0, n), chooseFor, options.CrossValidationFolds,
                    options.Seed, ct);
            if (options.HeadFeatures == "auto")
            {
                var both = Choose(Classifier.Inputs);
                var top = Choose(ResNetBackbone.Features);
                (cv, columns) = both.LogLoss < top.LogLoss ? (both, Classifier.Inputs)
                    : (top, ResNetBackbone.Features);
            }
            else cv = Choose(columns);
            strength = cv.Strength;
        }
        // A strength given is on features standardised each apart, as it always was.
        var scaling = cv?.Scaling ?? FeatureScaling.EachApart;
        var (fitted, bias) = SoftmaxRegression.Fit(features.narrow(1, 0, columns), targets, strength, scaling);
        // Unused columns get zero weights: the exported graph is the same whichever features the head uses.
        var weight = nn.functional.pad(fitted, [0, Classifier.Inputs - columns]);
        SetHead(model, weight, bias);

        // The fit on all images, and what cross-validation said of it, as the head's one "epoch" for the report.
        using (no_grad())
        {
            var p = targets.Probabilities(model.head.forward(features.to(weight.device))).cpu();
            var rows = SoftmaxRegression.RowArrays(p);
            var (trainLoss, trainAccuracy) = targets.Score(rows);
            history.Add(new EpochRecord("head", 1, trainLoss, trainAccuracy, cv?.LogLoss ?? trainLoss,
                cv?.Accuracy ?? trainAccuracy, true));
        }
        var which = (columns == Classifier.Inputs ? "layer4 and layer3 features" : "layer4 features")
            + (scaling == FeatureScaling.EachApart ? " standardised each apart" : " centred and scaled together");
        var chosen = options.HeadFeatures == "auto" ? "features, scaling and L2 chosen" : "scaling and L2 chosen";
        var how = cv is null ? $"{kind} on {which}, L2 {strength:G3} as given"
            : $"{kind} on {which}, L2 {strength:G3}, {chosen} by " +
                $"{Math.Max(2, options.CrossValidationFolds)}-fold cross-validation";
        var accuracy = targets.Sigmoid ? "exact-match accuracy" : "accuracy";
        progress?.Report(Note("head", clock, cv is null ? how
            : $"{how}: {accuracy} {cv.Accuracy:0.0000}, log loss {cv.LogLoss:0.0000} over {cv.OutOfFold.Length} " +
                $"images{(sampled is null ? "" : $" of the {targets.Rows}")}"));
        var recipe = new Recipe
        {
            Head = how,
            CrossValidatedAccuracy = cv?.Accuracy,
            CrossValidatedLogLoss = cv?.LogLoss,
            Thresholds = cv is null ? "validation" : "out-of-fold probabilities of the cross-validation",
        };
        return new HeadFit(recipe, cv, strength, targets.Groups, (clock.Elapsed - start).TotalSeconds, columns,
            scaling, sampled);
    }

    /// <summary>A seeded sample of <paramref name="size"/> rows, each group's share kept (at least one a group), in
    /// row order.</summary>
    private static int[] Sample(long[] groups, int size, int seed)
    {
        var random = new Random(seed);
        var share = (double)size / groups.Length;
        return Enumerable.Range(0, groups.Length).GroupBy(r => groups[r]).OrderBy(g => g.Key)
            .SelectMany(g =>
            {
                var mine = g.ToArray();
                random.Shuffle(mine);
                return mine.Take(Math.Max(1, (int)Math.Round(mine.Length * share)));
            })
            .Order().ToArray();
    }

    private static void SetHead(Classifier model, Tensor weight, Tensor bias)
    {
        using var _ = no_grad();
        model.head.weight!.copy_(weight);
        model.head.bias!.copy_(bias);
    }

    /// <summary>One epoch of the head on the plain images' cached features.</summary>
    private static (double, double, int) HeadEpoch(Classifier model, FeatureCache train, SmoothedLoss loss,
        optim.Optimizer optimizer, int batchSize, Random random)
    {
        var rows = Enumerable.Range(0, train.Images).ToArray();
        random.Shuffle(rows);
        return Epoch(model, train.Labels, rows, batchSize, loss, [optimizer],
            index => train.Features.index_select(0, index), train.Features.device);
    }

    private static optim.Optimizer Optimizer(string name, IEnumerable<Parameter> parameters, double rate,
        double decay) =>
        name.ToLowerInvariant() switch
        {
            "adamw" => optim.AdamW(parameters, rate, weight_decay: decay),
            "adam" => optim.Adam(parameters, rate, weight_decay: decay),
            "rmsprop" => optim.RMSProp(parameters, rate, weight_decay: decay),
            "sgd" => optim.SGD(parameters, rate, momentum: 0.9, weight_decay: decay),
            _ => throw new ArgumentException($"Unknown optimizer '{name}': use lbfgs, adamw, adam, rmsprop or sgd."),
        };
}
