using System.Text.RegularExpressions;

namespace Pipeline.Core.Tests;

/// <summary>
/// The order of docs/architecture.md, read from the source: each file's namespace is its layer, and every
/// <c>Pipeline.*</c> namespace it names (usings, qualified names, crefs) must be its own layer or one below.
/// </summary>
public static partial class Layers
{
    /// <summary>Bottom first. A namespace not listed here has no place in the order and is an error.</summary>
    public static readonly string[] Core =
    [
        "Pipeline.Core.Contract",
        "Pipeline.Core.Images",
        "Pipeline.Core.Scoring",
        "Pipeline.Core.Storage",
        "Pipeline.Core.Datasets",
        "Pipeline.Core.Training",
        "Pipeline.Core.Serving",
        "Pipeline.Core", // the composition root (AddPipeline)
    ];

    /// <summary>Above core: the HTTP edge, then the hosts, none of which uses another.</summary>
    public static readonly string Http = "Pipeline.Http";
    public static readonly string[] Hosts = ["Pipeline.Functions", "Pipeline.Local", "Pipeline.Trainer",
        "Pipeline.Cli"];

    /// <summary>
    /// Inside the trainer, bottom first: the TorchSharp modules, ONNX in and out (the pretrained backbone read, the
    /// model written), training, the report, the queue job, the command line.
    /// </summary>
    public static readonly string[] Trainer =
    [
        "Pipeline.Trainer.Model",
        "Pipeline.Trainer.Onnx",
        "Pipeline.Trainer.Training",
        "Pipeline.Trainer.Report",
        "Pipeline.Trainer.Job",
        "Pipeline.Trainer.Cli",
    ];

    /// <summary>Rank of a namespace inside the trainer; -1 when it is not one of the trainer's folders.</summary>
    public static int TrainerRank(string ns) =>
        Array.FindIndex(Trainer, t => ns == t || ns.StartsWith(t + ".", StringComparison.Ordinal));

    /// <summary>Layer rank of a namespace: its longest known prefix. Hosts share one rank; -1 when unknown.</summary>
    public static int Rank(string ns)
    {
        for (var i = Core.Length - 2; i >= 0; i--)
            if (ns == Core[i] || ns.StartsWith(Core[i] + ".", StringComparison.Ordinal)) return i;
        if (ns == "Pipeline.Core") return Core.Length - 1;
        if (ns == Http || ns.StartsWith(Http + ".", StringComparison.Ordinal)) return Core.Length;
        return Host(ns) is null ? -1 : Core.Length + 1;
    }

    public static string? Host(string ns) =>
        Hosts.FirstOrDefault(h => ns == h || ns.StartsWith(h + ".", StringComparison.Ordinal));

    /// <summary>The imports of one source file that run against the order, as messages.</summary>
    public static IEnumerable<string> Violations(string file, string source)
    {
        var own = FileNamespace().Match(source);
        if (!own.Success) yield break;
        var ns = own.Groups[1].Value;
        var rank = Rank(ns);
        if (rank < 0 || (ns.StartsWith("Pipeline.Trainer.", StringComparison.Ordinal) && TrainerRank(ns) < 0))
        {
            yield return $"{file}: namespace {ns} has no place in the layers (tests/Core.Tests/Layers.cs, " +
                $"docs/architecture.md).";
            yield break;
        }
        foreach (var used in Used(source, ns).Distinct())
        {
            var usedRank = Rank(used);
            if (usedRank < 0) continue; // a namespace outside the pipeline, or a test helper
            if (usedRank > rank)
                yield return $"{file}: {ns} uses {used}, a layer above it.";
            else if (usedRank == rank && Host(ns) is { } host && Host(used) is { } other && host != other)
                yield return $"{file}: {ns} uses {used}; hosts share core and the HTTP edge, never each other.";
            else if (TrainerRank(used) > TrainerRank(ns) && TrainerRank(ns) >= 0)
                yield return $"{file}: {ns} uses {used}, a folder of the trainer above it.";
        }
    }

    private static IEnumerable<string> Used(string source, string ns)
    {
        foreach (Match m in PipelineName().Matches(source)) yield return Trim(m.Value);
        // Inside namespace Pipeline.X, "Core.Images.Preprocessing" names Pipeline.Core.Images.
        foreach (Match m in RelativeCoreName().Matches(source)) yield return Trim("Pipeline." + m.Groups[1].Value);
        _ = ns;
    }

    /// <summary>Drops a trailing type name (an upper-case segment after a known namespace) from a qualified
    /// name.</summary>
    private static string Trim(string qualified)
    {
        var parts = qualified.Split('.');
        for (var n = parts.Length; n >= 2; n--)
        {
            var candidate = string.Join('.', parts[..n]);
            if (Core.Contains(candidate) || candidate == Http || Hosts.Contains(candidate)
                || Trainer.Contains(candidate)) return candidate;
        }
        return qualified;
    }

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*[;{]", RegexOptions.Multiline)]
    private static partial Regex FileNamespace();

    [GeneratedRegex(@"(?<![\w.])Pipeline(\.[A-Z]\w*)+")]
    private static partial Regex PipelineName();

    [GeneratedRegex(@"(?<![\w.])(Core\.(Contract|Images|Scoring|Storage|Datasets|Training|Serving))\b")]
    private static partial Regex RelativeCoreName();
}
