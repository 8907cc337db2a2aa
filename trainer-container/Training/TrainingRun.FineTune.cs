using System.Diagnostics;
using Pipeline.Core.Contract;
using Pipeline.Trainer.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>Stage 2: the top stage fine-tuned from cached activations, kept only where validation clearly prefers
/// it.</summary>
public static partial class TrainingRun
{
    /// <summary>How many standard errors of the paired per-image loss difference fine-tuning must win by.</summary>
    private const double KeepFineTuning = 1.5, KeepFlipAverage = 1;

    private static FitResult FineTune(Classifier model, ImageSet data, FeatureCache train, FeatureCache validation,
        FeatureExtractor extractor, double[] weights, HeadFit head, TrainingOptions options, FitResult frozen,
        int stage, double passRate, Random random, IProgress<TrainingProgress>? progress, List<EpochRecord> history,
        Stopwatch clock, TrainingBudget budget, CancellationToken ct)
    {
        var backbone = model.backbone;
        var device = backbone.MeanImage.device;
        // The head fitted on all images stays at hand: it is the model unless fine-tuning clearly wins. The contest is
        // fair: both sides start from a head that never saw the validation images.
        using var allWeight = model.head.weight!.detach().clone();
        using var allBias = model.head.bias!.detach().clone();
        if (head.Strength is { } strength)
        {
            var (w, b) = SoftmaxRegression.Fit(train.Features.narrow(1, 0, head.Columns), train.Labels, model.Labels,
                strength, weights, head.Scaling);
            // A head on layer4's features alone gets zero weights for layer3's, as the frozen head does.
            using var padded = nn.functional.pad(w, [0, Classifier.Inputs - head.Columns]);
            SetHead(model, padded, b);
            w.Dispose();
            b.Dispose();
        }
        Tensor TopFeatures(Tensor a) => backbone.Top(a.to(ScalarType.Float32), stage, withLayer3: true);
        // The frozen model as it would be exported: its head on the extractor's own features.
        using var before = HeadProbabilities(model, validation.Features);
        var baseline = Losses(before, validation.Labels);
        var top = backbone.Stages.Skip(stage).SelectMany(s => s.parameters()).ToList();
        var original = Snapshot(top);

        using var views = AugmentedViews(extractor, data, options, passRate, random, progress, clock, budget, ct);
        using var labelWeights = tensor(weights.Select(w => (float)w).ToArray(), device: device);
        var loss = new SmoothedLoss(labelWeights, options.LabelSmoothing);
        var headParameters = model.head.parameters().ToList();
        // Discriminative rates, as ULMFiT sets them: each stage learns 2.6 times slower than the one above it, so the
        // more general features move least (one stage, the default, learns at the fine-tuning rate).
        var stages = Enumerable.Range(stage, 4 - stage).Select(s =>
        {
            var rate = options.FineTuneLearningRate / Math.Pow(2.6, 3 - s);
            return (Optimizer: (optim.Optimizer)optim.AdamW(backbone.Stages[s].parameters(), rate,
                weight_decay: options.WeightDecay), Rate: rate);
        }).ToList();
        var headRate = options.FineTuneLearningRate * (head.Strength is null ? 10 : 1);
        var headOptimizer = optim.AdamW(headParameters, headRate, weight_decay: options.WeightDecay);
        var fine = new Stage("fine-tune", options.FineTuneEpochs, options.Patience, [.. top, .. headParameters],
            [.. stages, (headOptimizer, headRate)], progress, history, clock);
        // An lbfgs head starts at its optimum for these features and was fitted without dropout: it moves at the
        // backbone's rate and keeps all its inputs. A gradient head learns ten times faster, with dropout, as before.
        var dropout = head.Strength is null;
        optim.Optimizer[] optimizers = [.. stages.Select(o => o.Optimizer), headOptimizer];
        fine.Run(() => FineTuneEpoch(model, train, views, stage, loss, optimizers, options.BatchSize, random, dropout),
            () => Validate(model, validation, TopFeatures, activations: true), ct, baseline.Loss, budget.Fits);
        if (fine.StoppedEarly is { } stopped) budget.Leave(stopped);

        using var after = ValidationProbabilities(model, validation, TopFeatures);
        var tuned = Losses(after, validation.Labels);
        var (gain, error) = PairedGain(baseline.PerImage, tuned.PerImage);
        var keep = gain > 0 && gain >= KeepFineTuning * error && tuned.Accuracy >= baseline.Accuracy;
        var said = $"validation loss {baseline.Loss:0.0000} to {tuned.Loss:0.0000}, "
            + $"accuracy {baseline.Accuracy:0.0000} to {tuned.Accuracy:0.0000} on {validation.Images} images "
            + $"({gain / Math.Max(error, 1e-12):0.0} standard errors)";
        var times = frozen.Times with
        {
            FineTuneSeconds = fine.Seconds,
            FineTuneImagesPerSecond = fine.ImagesPerSecond
        };
        var recipe = frozen.Recipe with { AugmentedViews = views?.Views ?? 0 };
        if (!keep)
        {
            Restore(top, original);
            SetHead(model, allWeight, allBias);
            progress?.Report(Note("fine-tune", clock, $"not kept: {said}"));
            return frozen with
            {
                Times = times,
                Recipe = recipe with { FineTune = $"not kept: {said}", FlipAverageReason = FlipReason(options) },
            };
        }
        DisposeAll(original);
        progress?.Report(Note("fine-tune", clock, $"kept: {said}"));
        var (flip, why) = options.FlipTestTimeAugmentation is { } given
            ? (given, FlipReason(options))
            : DecideFlip(model, data, validation, extractor, after, passRate, TopFeatures, budget, ct);
        return new FitResult(times, recipe with
        {
            FineTune = $"kept: {said}",
            FineTuned = true,
            FlipAverage = flip,
            FlipAverageReason = why,
            Thresholds = "validation",
            Precision = frozen.Int8 is null ? "float" : $"int8 up to layer{stage + 1}, float from there",
        }, null, null)
        { Int8 = frozen.Int8, Int8Stages = stage };
    }

    /// <summary>Augmented views through the bottom of the backbone, computed only now and only as many as the budget
    /// allows.</summary>
    private static FeatureCache? AugmentedViews(FeatureExtractor extractor, ImageSet data, TrainingOptions options,
        double passRate, Random random, IProgress<TrainingProgress>? progress, Stopwatch clock, TrainingBudget budget,
        CancellationToken ct)
    {
        var count = options.AugmentedViews;
        var epochSeconds = data.Train.Count / passRate;
        while (count > 0 && !budget.Fits(count * epochSeconds + epochSeconds)) count--;
        if (count < options.AugmentedViews)
            budget.Leave($"{options.AugmentedViews - count} of {options.AugmentedViews} augmented views");
        if (count == 0) return null;
        var augmentation = new Augmentation(options.Augmentation, random);
        var views = Enumerable.Repeat<Func<Tensor, Tensor>?>(augmentation.Apply, count).ToList();
        var cache = FeatureCache.Build(extractor, extractor.Device, data.Train, views, true, FeatureBatch,
            Counter("features", count * data.Train.Count, progress, clock), ct, data.Caches);
        ProcessMemory.Release();
        return cache;
    }

    /// <summary>The mirror average, kept where it lowers the fine-tuned model's validation loss by a standard
    /// error.</summary>
    private static (bool, string) DecideFlip(Classifier model, ImageSet data, FeatureCache validation,
        FeatureExtractor extractor, Tensor plain, double passRate, Func<Tensor, Tensor> topFeatures,
        TrainingBudget budget, CancellationToken ct)
    {
        if (!budget.Fits(validation.Images / passRate))
        {
            budget.Leave("the mirror-average check");
            return (false, "not checked: the time budget ran out");
        }
        using var mirror = FeatureCache.Build(extractor, extractor.Device, data.Validation, [FeatureCache.Mirror], true,
            FeatureBatch, null, ct, data.Caches);
        using var mirrored = ValidationProbabilities(model, mirror, topFeatures);
        using var averaged = (plain + mirrored) / 2;
        var one = Losses(plain, validation.Labels);
        var both = Losses(averaged, validation.Labels);
        var (gain, error) = PairedGain(one.PerImage, both.PerImage);
        var keep = gain > 0 && gain >= KeepFlipAverage * error;
        var said = $"validation loss {one.Loss:0.0000} alone, {both.Loss:0.0000} averaged with the mirror image";
        return (keep, keep ? $"kept: {said}" : $"not kept: {said}");
    }

    /// <summary>One epoch of the top stages: every training image once, in a view drawn at random, its maps flipped and
    /// shifted.</summary>
    private static (double, double, int) FineTuneEpoch(Classifier model, FeatureCache train, FeatureCache? views,
        int stage, SmoothedLoss loss, optim.Optimizer[] optimizers, int batchSize, Random random, bool dropout)
    {
        var images = train.Images;
        var choices = 1 + (views?.Views ?? 0);
        // Row r < images: plain image r; otherwise augmented view row r - images of the views cache.
        var rows = Enumerable.Range(0, images).Select(i => i + images * random.Next(choices)).ToArray();
        random.Shuffle(rows);
        Tensor Features(int[] batch)
        {
            var plain = batch.Where(r => r < images).Select(r => (long)r).ToArray();
            var augmented = batch.Where(r => r >= images).Select(r => (long)(r - images)).ToArray();
            var parts = new List<Tensor>();
            if (plain.Length > 0) parts.Add(train.Activations!.Select(plain));
            if (augmented.Length > 0) parts.Add(views!.Activations!.Select(augmented));
            return model.backbone.Top(
                MapAugmentation.Apply(cat(parts, 0).to(ScalarType.Float32), random), stage, withLayer3: true);
        }
        // Labels in the order Features puts the rows: plain ones first.
        long LabelOf(int r) => train.Labels[r % images];
        int[] Ordered(int[] batch) => [.. batch.Where(r => r < images), .. batch.Where(r => r >= images)];
        return Epoch(model, rows, batchSize, loss, optimizers, b => Features(Ordered(b)),
            b => Ordered(b).Select(LabelOf).ToArray(), train.Features.device, dropout);
    }

    private static List<Tensor> Snapshot(IEnumerable<Parameter> parameters)
    {
        using var _ = no_grad();
        return parameters.Select(p => p.detach().clone()).ToList();
    }

    private static void Restore(IReadOnlyList<Parameter> parameters, List<Tensor> snapshot)
    {
        using (no_grad())
            for (var i = 0; i < parameters.Count; i++) parameters[i].copy_(snapshot[i]);
        DisposeAll(snapshot);
    }

    private static void DisposeAll(List<Tensor> tensors) { foreach (var t in tensors) t.Dispose(); }
}
