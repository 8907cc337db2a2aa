using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;

namespace Pipeline.FashionMnist.Benchmarks;

/// <summary>The options the commands share, and the small pieces of every result (time, load, repository).</summary>
public static class Arguments
{
    /// <summary>The exit code of a command skipped because Fashion-MNIST is not installed.</summary>
    public const int Skipped = 3;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Option<string> Source() => new("--source")
    {
        Description = "The folder of Fashion-MNIST's IDX files (Debian's dataset-fashion-mnist)",
        DefaultValueFactory = _ => FashionMnistFiles.DefaultFolder,
        HelpName = "folder",
    };

    public static Option<int> Seed() => new("--seed")
    {
        Description = "Draws the subset (and seeds the trainer)", DefaultValueFactory = _ => 1,
    };

    public static Option<int> Count(string name, string description, int fallback)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => fallback };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < FashionMnistFiles.Classes.Length * 5)
                r.AddError($"{name} takes at least 50 images (5 a label, the trainer's least).");
        });
        return option;
    }

    public static Option<IReadOnlyList<T>> List<T>(string name, string description, T[] defaults,
        Func<string, T> parse) => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaults,
            CustomParser = r => [.. Split(r).Select(parse)],
            HelpName = "a,b,...",
        };

    public static Option<string> Results() => new("--results")
    {
        Description = "Where the JSON result file goes", HelpName = "folder",
        DefaultValueFactory = _ => Path.Combine(RepoRoot(), "benchmarks", "results"),
    };

    private static IEnumerable<string> Split(ArgumentResult result) =>
        result.Tokens.SelectMany(t => t.Value.Split(',',
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static int Skip(string reason)
    {
        Console.Error.WriteLine($"skipped: {reason}");
        return Skipped;
    }

    public static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'");

    /// <summary>The load average (1, 5, 15 minutes): the cores are shared.</summary>
    public static string Load() =>
        File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3))
            : "unknown";

    /// <summary>The machine at the time of a figure, for the result file.</summary>
    public static object Machine() => new
    {
        at = DateTimeOffset.UtcNow,
        loadAverage = Load(),
        cores = Environment.ProcessorCount,
        commit = Git("rev-parse --short HEAD"),
    };

    /// <summary>Writes <paramref name="result"/> as <c>&lt;folder&gt;/&lt;name&gt;-yyyyMMdd-HHmmss.json</c>.</summary>
    public static string WriteResult(string folder, string name, object result)
    {
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, $"{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        File.WriteAllText(file, JsonSerializer.Serialize(result, Json));
        return file;
    }

    public static string RepoRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException("Run from inside the repository (no Pipeline.sln above the program).");
    }

    private static string? Git(string args)
    {
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("git", args)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot(),
            };
            using var git = System.Diagnostics.Process.Start(start)!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}
