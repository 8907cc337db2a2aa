using System.Diagnostics;
using Pipeline.Core.Contract;
using Pipeline.Trainer.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>The two stages: the head on cached features of a frozen backbone, then the top stages fine-tuned at a lower rate.</summary>
public static partial class TrainingRun
{
    // Backbone passes go 16 images at a time: as fast as 32 on these CPUs, with half the peak memory.
    private const int FeatureBatch = 16;

    private sealed record StageTimes(double FeatureSeconds, double FeatureImagesPerSecond, double HeadSeconds, double FineTuneSeconds, double FineTuneImagesPerSecond);

    private static StageTimes Fit(Classifier model, ImageSet data, TrainingOptions options, IProgress<TrainingProgress>? progress,
        List<EpochRecord> history, Stopwatch clock, CancellationToken ct)
    {
        var random = new Random(options.Seed);
        var fineTune = options.FineTuneEpochs > 0 && options.FineTuneStages > 0;
        int? activationStage = fineTune ? 4 - Math.Clamp(options.FineTuneStages, 1, 4) : null;
        var backbone = model.backbone;
        backbone.eval();

        var featureStart = clock.Elapsed;
        var total = data.Train.Count * (1 + options.AugmentedViews) + data.Validation.Count * 2;
        var done = 0;
        void OnBatch(int n)
        {
            done += n;
            var seconds = (clock.Elapsed - featureStart).TotalSeconds;
            progress?.Report(new TrainingProgress("features", done, total, 0, 0, null, null, done / Math.Max(seconds, 1e-9), clock.Elapsed,
                TimeSpan.FromSeconds(seconds / done * (total - done))));
        }
        var device = backbone.MeanImage.device;
        FeatureCache train, validation;
        using (var extractor = new FeatureExtractor(backbone, activationStage, useOnnxRuntime: device.type == TorchSharp.DeviceType.CPU))
        {
            train = FeatureCache.Build(extractor, device, data.Train, options.AugmentedViews, new Augmentation(options.Augmentation, random),
                fineTune, FeatureBatch, OnBatch, ct);
            validation = FeatureCache.Build(extractor, device, data.Validation, 0, null, fineTune, FeatureBatch, OnBatch, ct);
        }
        ProcessMemory.Release();
        using var trainCache = train;
        using var validationCache = validation;
        var featureSeconds = (clock.Elapsed - featureStart).TotalSeconds;

        using var weights = LabelWeights(data, options).to(backbone.MeanImage.device);
        // The frozen head learns from the plain images without smoothing; augmented views and smoothing serve fine-tuning.
        // Measured on the shared photo sets, augmented features and smoothing did not help a frozen head (docs/benchmarks.md).
        var headLoss = new SmoothedLoss(weights, 0);
        var loss = new SmoothedLoss(weights, options.LabelSmoothing);
        var headParameters = model.head.parameters().ToList();
        var headOptimizer = Optimizer(options.HeadOptimizer, headParameters, options.HeadLearningRate, options.WeightDecay);
        var head = new Stage("head", options.HeadEpochs, options.Patience, headParameters, [(headOptimizer, options.HeadLearningRate)], progress, history, clock);
        head.Run(() => HeadEpoch(model, train, headLoss, headOptimizer, options.BatchSize, random, ct),
            () => Validate(model, validation, v => v), ct);

        if (!fineTune)
            return new StageTimes(featureSeconds, total / Math.Max(featureSeconds, 1e-9), head.Seconds, 0, 0);

        var stage = activationStage!.Value;
        var top = backbone.Stages.Skip(stage).SelectMany(s => s.parameters()).ToList();
        var topOptimizer = optim.AdamW(top, options.FineTuneLearningRate, weight_decay: options.WeightDecay);
        // The head keeps learning faster than the pretrained layers below it.
        var fineHeadOptimizer = optim.AdamW(headParameters, options.FineTuneLearningRate * 10, weight_decay: options.WeightDecay);
        var fine = new Stage("fine-tune", options.FineTuneEpochs, options.Patience, [.. top, .. headParameters],
            [(topOptimizer, options.FineTuneLearningRate), (fineHeadOptimizer, options.FineTuneLearningRate * 10)], progress, history, clock);
        (double, double) ValidateTop() => Validate(model, validation, a => backbone.Top(a.to(ScalarType.Float32), stage), activations: true);
        // Fine-tuning must beat the frozen head on validation loss, or the frozen head is kept (on hymenoptera it rarely does).
        fine.Run(() => FineTuneEpoch(model, train, stage, loss, [topOptimizer, fineHeadOptimizer], options.BatchSize,
            random, ct),
            ValidateTop, ct, validation.Images > 0 ? ValidateTop().Item1 : null);
        return new StageTimes(featureSeconds, total / Math.Max(featureSeconds, 1e-9), head.Seconds, fine.Seconds, fine.ImagesPerSecond);
    }

    /// <summary>One epoch of the head on the plain images' cached features (view 0).</summary>
    private static (double, double, int) HeadEpoch(Classifier model, FeatureCache train, SmoothedLoss loss,
        optim.Optimizer optimizer, int batchSize, Random random, CancellationToken ct)
    {
        var rows = Enumerable.Range(0, train.Images).ToArray();
        random.Shuffle(rows);
        return Epoch(model, train, rows, batchSize, loss, [optimizer], index => train.Features.index_select(0, index),
            ct);
    }

    /// <summary>One epoch of the top stages: every training image once, in one of its cached views drawn at random.</summary>
    private static (double, double, int) FineTuneEpoch(Classifier model, FeatureCache train, int stage, SmoothedLoss loss,
        optim.Optimizer[] optimizers, int batchSize, Random random, CancellationToken ct)
    {
        var rows = Enumerable.Range(0, train.Images).Select(i => i + train.Images * random.Next(train.Views)).ToArray();
        random.Shuffle(rows);
        return Epoch(model, train, rows, batchSize, loss, optimizers,
            index => model.backbone.Top(train.Activations!.index_select(0, index).to(ScalarType.Float32), stage), ct);
    }

    /// <summary>Batches over the cache's <paramref name="rows"/>: features of a batch, head, loss, a step; mean loss and accuracy.</summary>
    private static (double, double, int) Epoch(Classifier model, FeatureCache train, int[] rows, int batchSize, SmoothedLoss loss,
        optim.Optimizer[] optimizers, Func<Tensor, Tensor> features, CancellationToken ct)
    {
        var device = train.Features.device;
        model.dropout.train();
        double total = 0, correct = 0;
        for (var start = 0; start < rows.Length; start += batchSize)
        {
            ct.ThrowIfCancellationRequested(); // a stop request (SIGTERM) ends training at the next batch
            using var scope = NewDisposeScope();
            var batch = rows[start..Math.Min(start + batchSize, rows.Length)];
            var labels = tensor(batch.Select(r => train.Labels[r]).ToArray(), device: device);
            var logits = model.HeadLogits(features(tensor(batch.Select(r => (long)r).ToArray(), device: device)));
            var l = loss.forward(logits, labels);
            foreach (var o in optimizers) o.zero_grad();
            l.backward();
            foreach (var o in optimizers) o.step();
            total += l.item<float>() * batch.Length;
            correct += logits.argmax(1).eq(labels).sum().item<long>();
        }
        model.dropout.eval();
        return (total / rows.Length, correct / rows.Length, rows.Length);
    }

    private static (double, double) Validate(Classifier model, FeatureCache validation, Func<Tensor, Tensor> features, bool activations = false)
    {
        if (validation.Images == 0) return (0, 0);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var source = activations ? validation.Activations! : validation.Features;
        var parts = new List<Tensor>();
        for (long start = 0; start < source.shape[0]; start += 64)
            parts.Add(model.HeadLogits(features(source.narrow(0, start, Math.Min(64, source.shape[0] - start)))));
        return Stage.Score(cat(parts, 0), validation.Labels, validation.Images);
    }

    /// <summary>Cross-entropy with label weights and label smoothing, weighted by the true label as PyTorch's is.</summary>
    private sealed class SmoothedLoss(Tensor weights, double smoothing)
    {
        public Tensor forward(Tensor logits, Tensor labels)
        {
            using var scope = NewDisposeScope();
            var logp = nn.functional.log_softmax(logits, 1);
            var w = weights.index_select(0, labels);
            var perImage = -(1 - smoothing) * logp.gather(1, labels.unsqueeze(1)).squeeze(1) - smoothing * logp.mean([1]);
            return ((perImage * w).sum() / w.sum()).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Inverse label frequency, so that a small label weighs as much as a large one; all ones when balancing is off.</summary>
    private static Tensor LabelWeights(ImageSet data, TrainingOptions options)
    {
        var counts = data.Labels.Select((_, k) => Math.Max(1, data.Train.Count(t => t.Label == k))).ToArray();
        var weights = counts.Select(n => options.BalanceLabels ? (float)data.Train.Count / (counts.Length * n) : 1f).ToArray();
        return tensor(weights);
    }

    private static optim.Optimizer Optimizer(string name, IEnumerable<Parameter> parameters, double rate, double decay) => name.ToLowerInvariant() switch
    {
        "adamw" => optim.AdamW(parameters, rate, weight_decay: decay),
        "adam" => optim.Adam(parameters, rate, weight_decay: decay),
        "rmsprop" => optim.RMSProp(parameters, rate, weight_decay: decay),
        "sgd" => optim.SGD(parameters, rate, momentum: 0.9, weight_decay: decay),
        _ => throw new ArgumentException($"Unknown optimizer '{name}': use adamw, adam, rmsprop or sgd."),
    };
}
