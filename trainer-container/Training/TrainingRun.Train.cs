using System.Diagnostics;
using Pipeline.Core.Contract;
using Pipeline.Trainer.Model;
using Pipeline.Trainer.Onnx;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>
/// The recipe: one pass of the frozen backbone over the plain images; the head fitted on those features; fine-tuning
/// of the top stage tried only where the frozen head leaves room, and kept only where validation clearly says so.
/// </summary>
public static partial class TrainingRun
{
    // Backbone passes go 16 images at a time: as fast as 32 on these CPUs, with half the peak memory.
    private const int FeatureBatch = 16;

    private sealed record StageTimes(double FeatureSeconds, double FeatureImagesPerSecond, double HeadSeconds,
        double FineTuneSeconds, double FineTuneImagesPerSecond);

    /// <param name="OutOfFold">Probabilities for the thresholds when the final head never saw validation apart.</param>
    /// <param name="Int8">The calibration of the int8 backbone, and how many stages of it the export keeps
    /// int8.</param>
    /// <param name="OutOfFoldTargets">The labels of each out-of-fold row.</param>
    private sealed record FitResult(StageTimes Times, Recipe Recipe, float[][]? OutOfFold,
        IReadOnlyList<IReadOnlyCollection<int>>? OutOfFoldTargets)
    {
        public Int8Calibration? Int8 { get; init; }
        public int Int8Stages { get; init; } = 4;
    }

    /// <summary>Training images whose activation ranges set the int8 scales: a seeded sample across the labels
    /// (16 cost 0.6 s less than 32 here; accuracy on every shared set in docs/benchmarks.md, seventh round).</summary>
    private const int CalibrationImages = 16;

    /// <param name="calibrator">Measures the int8 ranges; null for float passes.</param>
    private static FitResult Fit(Classifier model, Int8Calibrator? calibrator, ImageSet data, TrainingOptions options,
        IProgress<TrainingProgress>? progress, List<EpochRecord> history, Stopwatch clock, TrainingBudget budget,
        CancellationToken ct)
    {
        var random = new Random(options.Seed);
        // Auto fine-tunes only within a time budget: on a CPU its epochs cost several frozen passes each, and without a
        // budget the run stops at the frozen model, in about the ML.NET route's time.
        var mayFineTune = options.FineTuneEpochs > 0 && options.FineTuneStages > 0
            && (options.FineTune == "always" || options.FineTune == "auto" && options.BudgetMinutes is not null);
        var stage = 4 - Math.Clamp(options.FineTuneStages, 1, 4);
        var backbone = model.backbone;
        backbone.eval();
        var device = backbone.MeanImage.device;

        // One pass over the plain images: pooled features for the head; the activations entering the top stage too,
        // where fine-tuning may be tried, so that trying it costs no second pass.
        var featureStart = clock.Elapsed;
        var images = data.Train.Count + data.Validation.Count;
        var onCpu = device.type == TorchSharp.DeviceType.CPU;
        var int8 = calibrator is null ? null : Calibrate(calibrator, data, random);
        calibrator?.Dispose(); // its float graph and session are not needed again
        using var extractor = new FeatureExtractor(backbone, mayFineTune ? stage : null, onCpu, int8);
        // Writing and loading the graphs leaves copies of the weights behind: give them back before the pass.
        ProcessMemory.Collect();
        var onBatch = Counter("features", images, progress, clock);
        using var train = FeatureCache.Build(extractor, device, data.Train, [FeatureCache.Plain], mayFineTune,
            FeatureBatch, onBatch, ct, data.Caches);
        using var validation = FeatureCache.Build(extractor, device, data.Validation, [FeatureCache.Plain], mayFineTune,
            FeatureBatch, onBatch, ct, data.Caches);
        ProcessMemory.Release();
        var featureSeconds = (clock.Elapsed - featureStart).TotalSeconds;
        var passRate = images / Math.Max(featureSeconds, 1e-9);

        var weights = LabelWeights(data, options);
        var head = data.Multilabel
            ? FitMultilabelHead(model, data, train, validation, options, progress, history, clock, ct)
            : FitHead(model, train, validation, weights, options, progress, history, clock, ct);
        var recipe = head.Recipe with
        {
            FlipAverage = options.FlipTestTimeAugmentation == true,
            Precision = int8 is null ? "float" : "int8",
        };
        var times = new StageTimes(featureSeconds, passRate, head.Seconds, 0, 0);
        var targets = data.Train.Concat(data.Validation).Select(t => (IReadOnlyCollection<int>)t.Targets.ToArray())
            .ToList();
        if (head.CrossValidatedRows is { } rows) targets = rows.Select(r => targets[r]).ToList();
        var frozen = new FitResult(times, recipe, head.CrossValidation?.OutOfFold, targets) { Int8 = int8 };

        var perLabel = (double)images / data.Labels.Count;
        // A fine-tuning step (forward and backward through the top stage, in float) costs about as much as a float
        // pass of the whole backbone, nearly three int8 passes (measured on this project's CPUs).
        var epochSeconds = data.Train.Count / passRate * (int8 is null ? 1 : 2.8);
        var why = data.Multilabel && options.FineTuneEpochs > 0 && options.FineTuneStages > 0
                && options.FineTune != "never"
            ? "multilabel models train the frozen head only in this version (fine-tuning learns one label per image)"
            : mayFineTune ? WhyNotTry(options, head.CrossValidation, validation, perLabel, budget, epochSeconds)
            : options.FineTune == "auto" && options.FineTuneEpochs > 0 && options.FineTuneStages > 0
                ? "no time budget was given (--budget minutes); without one training stops at the frozen model"
                : "it is off";
        if (why is not null)
        {
            progress?.Report(Note("fine-tune", clock, $"not tried: {why}"));
            return frozen with
            {
                Recipe = recipe with { FineTune = $"not tried: {why}", FlipAverageReason = FlipReason(options) }
            };
        }
        return FineTune(model, data, train, validation, extractor, weights, head, options, frozen, stage, passRate,
            random, progress, history, clock, budget, ct);
    }

    private static Int8Calibration Calibrate(Int8Calibrator calibrator, ImageSet data, Random random)
    {
        var sample = data.Train.ToArray();
        random.Shuffle(sample);
        var chosen = sample.Take(CalibrationImages).ToList();
        // Batches of 4: the float graph is run once, cold, and small batches stay in cache (32 images took 1.5 s in
        // batches of 4, 1.9 s in 8s and 2.7 s in 16s, measured here).
        var batches = chosen.Chunk(4).Select(b => FeatureCache.Pixels(b)).ToList();
        try { return calibrator.Measure(batches); }
        finally { batches.ForEach(b => b.Dispose()); }
    }

    /// <summary>Why fine-tuning is not worth trying here, or null to try it.</summary>
    private static string? WhyNotTry(TrainingOptions options, CrossValidation? cv, FeatureCache validation,
        double perLabel, TrainingBudget budget, double epochSeconds)
    {
        if (validation.Images == 0) return "no validation images to judge it on";
        if (options.FineTune == "auto" && cv is not null && cv.Accuracy >= options.FineTuneBelowAccuracy)
            return $"the frozen head is {cv.Accuracy:P1} accurate in cross-validation (at least " +
                $"{options.FineTuneBelowAccuracy:P0}), too little left for fine-tuning to gain";
        if (options.FineTune == "auto" && perLabel < options.FineTuneMinimumPerLabel)
            return $"{perLabel:0} training images a label on average, "
                + $"fewer than the {options.FineTuneMinimumPerLabel} "
                + "that fine-tuning needs to learn more than the images themselves";
        if (!budget.Fits(epochSeconds))
        {
            budget.Leave("fine-tuning: not one epoch fits in the time budget");
            return "not one epoch fits in the time budget";
        }
        return null;
    }

    private static string FlipReason(TrainingOptions options) => options.FlipTestTimeAugmentation switch
    {
        true => "asked for",
        false => "turned off",
        null => "not validated for a frozen head: scoring stays one backbone pass",
    };

    private static Action<int> Counter(string stage, int total, IProgress<TrainingProgress>? progress, Stopwatch clock)
    {
        var start = clock.Elapsed;
        var done = 0;
        return n =>
        {
            done += n;
            var seconds = (clock.Elapsed - start).TotalSeconds;
            progress?.Report(new TrainingProgress(stage, done, total, 0, 0, null, null, done / Math.Max(seconds, 1e-9),
                clock.Elapsed, TimeSpan.FromSeconds(seconds / done * (total - done))));
        };
    }

    private static TrainingProgress Note(string stage, Stopwatch clock, string message) =>
        new(stage, 0, 0, 0, 0, null, null, 0, clock.Elapsed, null, message);

    /// <summary>Inverse label frequency, so that a small label weighs as much as a large one; all ones when balancing
    /// is off.</summary>
    private static double[] LabelWeights(ImageSet data, TrainingOptions options)
    {
        var counts = data.Labels.Select((_, k) => Math.Max(1, data.Train.Count(t => t.Label == k))).ToArray();
        return counts.Select(n => options.BalanceLabels ? (double)data.Train.Count / (counts.Length * n) : 1).ToArray();
    }
}
