using Pipeline.Trainer.Training;

namespace Pipeline.Trainer.Cli;

/// <summary>The training's progress as lines on standard output: one per epoch, one per tenth of a feature
/// pass.</summary>
internal sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    private int lastFeatureReport = -1;

    public void Report(TrainingProgress p)
    {
        if (p.Message is not null) { Console.WriteLine($"[{p.Elapsed:mm\\:ss}] {p.Stage}: {p.Message}"); return; }
        var left = p.Remaining is { } r ? $", {r.TotalSeconds:0}s left" : "";
        if (p.Stage is "features" or "views")
        {
            // A line per tenth of the way is enough for the one-off backbone passes.
            var tenth = p.Epoch * 10 / Math.Max(1, p.Epochs);
            if (tenth == lastFeatureReport) return;
            lastFeatureReport = tenth;
            Console.WriteLine(
                $"[{p.Elapsed:mm\\:ss}] {p.Stage} {p.Epoch}/{p.Epochs} images, {p.ImagesPerSecond:0.0} images/s{left}");
            return;
        }
        Console.WriteLine($"[{p.Elapsed:mm\\:ss}] {p.Stage} epoch {p.Epoch}/{p.Epochs}: "
            + $"loss {p.Loss:0.0000}, accuracy {p.Accuracy:0.0000}, "
            + $"validation loss {p.ValidationLoss:0.0000}, validation accuracy {p.ValidationAccuracy:0.0000}, "
            + $"{p.ImagesPerSecond:0} images/s{left}");
    }
}
