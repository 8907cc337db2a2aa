using System.CommandLine;
using System.CommandLine.Parsing;

namespace Pipeline.Scoring.Benchmarks;

/// <summary>The options both commands share, and the figures' small pieces (percentiles, the machine's load).</summary>
public static class Arguments
{
    public static Option<string> Model() => new("--model")
    {
        Description = "A model version's folder (model.onnx and model.json), e.g. the trainer's --out",
        Required = true,
        HelpName = "folder",
    };

    public static Option<string> Images() => new("--images")
    {
        Description = "Images to score, round robin [default: ../shared/datasets/hymenoptera/val]",
        DefaultValueFactory = _ => Path.Combine(RepoRoot(), "..", "shared", "datasets", "hymenoptera", "val"),
        HelpName = "folder",
    };

    public static Option<IReadOnlyList<int>> Ints(string name, string description, int[] defaults) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaults,
        CustomParser = r => [.. Split(r).Select(int.Parse)],
        HelpName = "a,b,...",
    };

    public static IEnumerable<string> Split(ArgumentResult result) =>
        result.Tokens.SelectMany(t => t.Value.Split(',',
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static IReadOnlyList<string> ImageFiles(string folder) =>
        [.. Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN
            : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'");

    /// <summary>The load average (1, 5, 15 minutes), as <c>uptime</c> says it: the cores are shared.</summary>
    public static string Load() =>
        File.Exists("/proc/loadavg")
            ? "load average " + string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3))
            : "load average unknown";

    public static string RepoRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException("Run from inside the repository (no Pipeline.sln above the program).");
    }
}
