using Pipeline.Core.Contract;
using Pipeline.Trainer.Training;

namespace Pipeline.Trainer.Report;

/// <summary>
/// Writes report.html beside a model version: one self-contained page (plots and thumbnails as data: URIs, styles
/// inline,
/// no script), so it opens offline, from blob storage, through the API with a function key, or mailed as one file.
/// </summary>
public static class ReportWriter
{
    /// <summary>How many of the most confidently wrong test images the report shows.</summary>
    public const int WrongImages = TestPrediction.Shown;

    /// <param name="rejected">Uploads the pipeline refused before training (the job knows them; local training has
    /// none).</param>
    public static string Write(TrainingOutcome outcome, IReadOnlyList<SkippedFile>? rejected = null)
    {
        var manifest = outcome.Manifest;
        var page = new ReportPage(manifest)
        {
            LossCurve = manifest.History.Count > 0
                ? ReportPlots.LearningCurve(manifest.History, accuracy: false)
                : null,
            AccuracyCurve = manifest.History.Count > 0
                ? ReportPlots.LearningCurve(manifest.History, accuracy: true)
                : null,
            ConfusionMatrix = manifest.Metrics.ConfusionMatrix.Count > 0
                ? ReportPlots.ConfusionMatrix(manifest.Labels, manifest.Metrics.ConfusionMatrix)
                : null,
            Wrong = Classification.IsMultilabel(manifest.Classification) ? []
                : MostConfidentlyWrong(outcome.TestPredictions, WrongImages),
            Rejected = rejected ?? [],
        };
        var path = Path.Combine(outcome.ModelFolder, ModelFiles.Report);
        File.WriteAllText(path, page.Render());
        return path;
    }

    /// <summary>Writes the report, or says why not: a version without a report is still a good model.</summary>
    public static string? TryWrite(
        TrainingOutcome outcome, IReadOnlyList<SkippedFile>? rejected, Action<Exception> failed)
    {
        try { return Write(outcome, rejected); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            failed(e);
            return null;
        }
    }

    /// <summary>Wrong predictions, the most probable wrong answer first (fastai's top losses, by confidence).</summary>
    public static IReadOnlyList<WrongPrediction> MostConfidentlyWrong(
        IReadOnlyList<TestPrediction> predictions, int count) =>
        TestPrediction.MostConfidentlyWrong(predictions, count).Select(p => new WrongPrediction(p.Prediction,
            p.Predicted)).ToList();

    public static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}

public sealed record WrongPrediction(TestPrediction Image, int Predicted)
{
    public float Probability => Image.Probabilities[Predicted];
    public float TrueProbability => Image.Probabilities[Image.Label];
}
