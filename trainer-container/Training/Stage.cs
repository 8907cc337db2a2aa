using System.Diagnostics;
using Pipeline.Core.Contract;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>
/// The epoch loop both stages share: cosine learning-rate decay, validation after each epoch, early stopping on
/// validation loss, and the best epoch's weights restored at the end.
/// </summary>
internal sealed class Stage(string name, int epochs, int patience, IReadOnlyList<Parameter> trained,
    IReadOnlyList<(optim.Optimizer Optimizer, double Rate)> optimizers,
    IProgress<TrainingProgress>? progress, List<EpochRecord> history, Stopwatch clock)
{
    public double ImagesPerSecond { get; private set; }
    public double Seconds { get; private set; }
    /// <summary>Why the stage stopped before its epochs for want of time, or null.</summary>
    public string? StoppedEarly { get; private set; }

    /// <param name="trainEpoch">Trains one epoch; returns mean loss, accuracy and images seen.</param>
    /// <param name="validate">Validation loss and accuracy of the current weights.</param>
    /// <param name="baseline">The validation loss to beat, when the weights on entry are already a model worth
    /// keeping.</param>
    /// <param name="mayGoOn">Given the seconds an epoch takes, whether another fits (a time budget); null:
    /// always.</param>
    public void Run(Func<(double Loss, double Accuracy, int Images)> trainEpoch,
        Func<(double Loss, double Accuracy)> validate, CancellationToken ct,
        double? baseline = null, Func<double, bool>? mayGoOn = null)
    {
        var started = clock.Elapsed;
        var best = baseline ?? double.PositiveInfinity;
        var bestEpoch = 0;
        var snapshot = Snapshot();
        long images = 0;
        double trainSeconds = 0;
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            foreach (var (optimizer, rate) in optimizers)
                foreach (var group in optimizer.ParamGroups)
                    group.LearningRate = rate * 0.5 * (1 + Math.Cos(Math.PI * (epoch - 1) / epochs));
            var t0 = clock.Elapsed;
            var (loss, accuracy, seen) = trainEpoch();
            trainSeconds += (clock.Elapsed - t0).TotalSeconds;
            images += seen;
            var (valLoss, valAccuracy) = validate();
            ProcessMemory.Release();
            var improved = valLoss < best - 1e-6;
            if (improved)
            {
                (best, bestEpoch) = (valLoss, epoch);
                DisposeAll(snapshot);
                snapshot = Snapshot();
            }
            history.Add(new EpochRecord(name, epoch, loss, accuracy, valLoss, valAccuracy, false));
            var perEpoch = (clock.Elapsed - started).TotalSeconds / epoch;
            progress?.Report(new TrainingProgress(name, epoch, epochs, loss, accuracy, valLoss, valAccuracy,
                trainSeconds > 0 ? images / trainSeconds : 0, clock.Elapsed,
                TimeSpan.FromSeconds(perEpoch * (epochs - epoch))));
            if (epoch - bestEpoch >= patience) break;
            if (epoch < epochs && mayGoOn is not null && !mayGoOn(perEpoch))
            {
                StoppedEarly =
                    $"{name} stopped after epoch {epoch} of {epochs}: the next would not fit in the time budget";
                break;
            }
        }
        Restore(snapshot);
        DisposeAll(snapshot);
        var index = history.FindIndex(h => h.Stage == name && h.Epoch == bestEpoch);
        if (index >= 0) history[index] = history[index] with { Best = true };
        ImagesPerSecond = trainSeconds > 0 ? images / trainSeconds : 0;
        Seconds = (clock.Elapsed - started).TotalSeconds;
    }

    private List<Tensor> Snapshot()
    {
        using var _ = no_grad();
        return trained.Select(p => p.clone()).ToList();
    }

    private void Restore(List<Tensor> snapshot)
    {
        using var _ = no_grad();
        for (var i = 0; i < trained.Count; i++) trained[i].copy_(snapshot[i]);
    }

    private static void DisposeAll(List<Tensor> tensors) { foreach (var t in tensors) t.Dispose(); }

    /// <summary>Loss and accuracy of evaluation logits laid out view after view (the mean of the views'
    /// probabilities).</summary>
    public static (double Loss, double Accuracy) Score(Tensor logits, long[] labels, int images)
    {
        using var scope = NewDisposeScope();
        var p = nn.functional.softmax(logits, 1);
        p = p.view(-1, images, p.shape[1]).mean([0]);
        var truth = tensor(labels[..images], device: logits.device);
        var loss = nn.functional.nll_loss(p.clamp_min(1e-7f).log(), truth).item<float>();
        var accuracy = p.argmax(1).eq(truth).to(ScalarType.Float32).mean().item<float>();
        return (loss, accuracy);
    }
}
