using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// One route on one split of a dataset. SecondsToModel runs from the start of loading to a trained model (evaluation
/// left out); PeakMemorySource says whether the peak is the child's own report or the largest VmRSS sampled every
/// 200 ms. Seed names the split (null in files written before there were several). Path says which stages the
/// trainer's recipe ran (from its model.json), and Recipe keeps what else model.json says about how it chose.
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
    int ExitCode,
    int? Seed = null,
    bool TimedOut = false,
    string? Path = null,
    JsonElement? Recipe = null)
{
    public const string MlNet = "ml.net";

    /// <summary>Finished and reported its accuracy: the runs that count in a summary.</summary>
    [JsonIgnore]
    public bool Succeeded => ExitCode == 0 && !TimedOut && Accuracy is not null;

    [JsonIgnore]
    public string Outcome =>
        TimedOut ? "timed out" : ExitCode != 0 ? $"failed, exit {ExitCode}" : Accuracy is null ? "no result" : "";

    public static string Markdown(IEnumerable<ResultRow> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| dataset | seed | route/setting | accuracy | macro F1 | seconds to model | " +
            "feature images/s | fine-tune images/s | peak memory MB | path |");
        text.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in rows)
        {
            var route = r.Succeeded ? r.Route : $"{r.Route} ({r.Outcome})";
            text.AppendLine($"| {r.Dataset} | {r.Seed?.ToString(CultureInfo.InvariantCulture) ?? "–"} | {route} | " +
                $"{F(r.Accuracy, "0.0000")} | {F(r.MacroF1, "0.0000")} | {F(r.SecondsToModel, "0.0")} | " +
                $"{F(r.FeatureImagesPerSecond, "0.0")} | {F(r.FineTuneImagesPerSecond, "0.0")} | " +
                $"{F(r.PeakMemoryMB, "0")} | {r.Path ?? "–"} |");
        }
        return text.ToString();
    }

    private static string F(double? value, string format) =>
        value?.ToString(format, CultureInfo.InvariantCulture) ?? "–";
}
