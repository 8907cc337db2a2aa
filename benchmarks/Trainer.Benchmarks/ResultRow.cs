using System.Globalization;
using System.Text;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// One route on one dataset. SecondsToModel runs from the start of loading to a trained model (evaluation left out);
/// PeakMemorySource says whether the peak is the child's own report or the largest VmRSS sampled every 200 ms.
/// </summary>
public sealed record ResultRow(
    string Dataset,
    string Route,
    double? Accuracy,
    double? MacroF1,
    double? SecondsToModel,
    double? FeatureImagesPerSecond,
    double? FineTuneImagesPerSecond,
    long? PeakMemoryMB,
    string PeakMemorySource,
    double? EvaluateSeconds,
    double WallSeconds,
    int ExitCode)
{
    public static string Markdown(IEnumerable<ResultRow> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| dataset | route/setting | accuracy | macro F1 | seconds to model | feature images/s | fine-tune images/s | peak memory MB |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            var route = r.ExitCode == 0 ? r.Route : $"{r.Route} (failed, exit {r.ExitCode})";
            text.AppendLine($"| {r.Dataset} | {route} | {F(r.Accuracy, "0.0000")} | {F(r.MacroF1, "0.0000")} | {F(r.SecondsToModel, "0.0")} | " +
                $"{F(r.FeatureImagesPerSecond, "0.0")} | {F(r.FineTuneImagesPerSecond, "0.0")} | {F(r.PeakMemoryMB, "0")} |");
        }
        return text.ToString();
    }

    private static string F(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "–";
}
