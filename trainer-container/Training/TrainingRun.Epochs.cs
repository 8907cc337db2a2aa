using Pipeline.Trainer.Model;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>The batch loop both gradient stages share, validation, and the losses the recipe's decisions
/// compare.</summary>
public static partial class TrainingRun
{
    /// <summary>Batches over <paramref name="rows"/>: features of a batch, head, loss, a step; mean loss and
    /// accuracy.</summary>
    private static (double, double, int) Epoch(Classifier model, int[] rows, int batchSize, SmoothedLoss loss,
        optim.Optimizer[] optimizers, Func<int[], Tensor> features, Func<int[], long[]> labelsOf, Device device,
        bool dropout = true)
    {
        if (dropout) model.dropout.train();
        double total = 0, correct = 0;
        for (var start = 0; start < rows.Length; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = rows[start..Math.Min(start + batchSize, rows.Length)];
            var labels = tensor(labelsOf(batch), device: device);
            var logits = model.HeadLogits(features(batch));
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

    private static (double, double, int) Epoch(Classifier model, long[] labels, int[] rows, int batchSize,
        SmoothedLoss loss, optim.Optimizer[] optimizers, Func<Tensor, Tensor> features, Device device) =>
        Epoch(model, rows, batchSize, loss, optimizers,
            b => features(tensor(b.Select(r => (long)r).ToArray(), device: device)),
            b => b.Select(r => labels[r]).ToArray(), device);

    private static (double, double) Validate(Classifier model, FeatureCache validation, Func<Tensor, Tensor> features,
        bool activations = false)
    {
        if (validation.Images == 0) return (0, 0);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var rows = activations ? validation.Activations!.Count : validation.Features.shape[0];
        Tensor Part(long start, long n) =>
            activations ? validation.Activations!.Range(start, n) : validation.Features.narrow(0, start, n);
        var parts = new List<Tensor>();
        for (long start = 0; start < rows; start += 64)
            parts.Add(model.HeadLogits(features(Part(start, Math.Min(64, rows - start)))));
        return Stage.Score(cat(parts, 0), validation.Labels, validation.Images);
    }

    /// <summary>Probabilities (N x labels) of the head on pooled features.</summary>
    private static Tensor HeadProbabilities(Classifier model, Tensor features)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return nn.functional.softmax(model.HeadLogits(features), 1).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>Probabilities (N x labels) of a cache's activations through the top stages and the head.</summary>
    private static Tensor ValidationProbabilities(
        Classifier model, FeatureCache cache, Func<Tensor, Tensor> topFeatures)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var source = cache.Activations!;
        var parts = new List<Tensor>();
        for (long start = 0; start < source.Count; start += 64)
            parts.Add(nn.functional.softmax(model.HeadLogits(topFeatures(source.Range(start,
                Math.Min(64, source.Count - start)))), 1));
        return cat(parts, 0).cpu().MoveToOuterDisposeScope();
    }

    private sealed record LossSummary(double Loss, double Accuracy, double[] PerImage);

    private static LossSummary Losses(Tensor probabilities, long[] labels)
    {
        using var scope = NewDisposeScope();
        var truth = tensor(labels[..(int)probabilities.shape[0]]);
        var perImage = -probabilities.gather(1, truth.unsqueeze(1)).squeeze(1).clamp_min(1e-7f).log();
        var values = perImage.to(ScalarType.Float64).data<double>().ToArray();
        var accuracy = probabilities.argmax(1).eq(truth).to(ScalarType.Float64).mean().item<double>();
        return new LossSummary(values.Average(), accuracy, values);
    }

    /// <summary>Mean per-image loss gained from <paramref name="before"/> to <paramref name="after"/>, and its standard
    /// error.</summary>
    private static (double Gain, double Error) PairedGain(double[] before, double[] after)
    {
        var d = before.Zip(after, (a, b) => a - b).ToArray();
        var mean = d.Average();
        var variance = d.Length > 1 ? d.Sum(x => (x - mean) * (x - mean)) / (d.Length - 1) : 0;
        return (mean, Math.Sqrt(variance / Math.Max(1, d.Length)));
    }

    /// <summary>Cross-entropy with label weights and label smoothing, weighted by the true label as PyTorch's
    /// is.</summary>
    private sealed class SmoothedLoss(Tensor weights, double smoothing)
    {
        public Tensor forward(Tensor logits, Tensor labels)
        {
            using var scope = NewDisposeScope();
            var logp = nn.functional.log_softmax(logits, 1);
            var w = weights.index_select(0, labels);
            var perImage = -(1 - smoothing) * logp.gather(1, labels.unsqueeze(1)).squeeze(1)
                - smoothing * logp.mean([1]);
            return ((perImage * w).sum() / w.sum()).MoveToOuterDisposeScope();
        }
    }
}
