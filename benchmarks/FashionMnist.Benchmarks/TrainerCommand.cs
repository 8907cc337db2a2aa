using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Pipeline.FashionMnist.Benchmarks;

/// <summary>
/// <c>trainer --sizes 6000,20000,60000 --settings fast,default</c>: the trainer alone (<c>trainer train --data
/// &lt;dir&gt;/train --test &lt;dir&gt;/test</c>, its Release build), one run at a time, per training-set size and
/// setting: each stage's time (model.json's timings), the progress lines' stages, the peak memory of the process,
/// its CPU seconds and the test accuracy; a table, a JSON result file and an SVG of time and memory against images.
/// </summary>
public static partial class TrainerCommand
{
    public sealed record Run(int Images, string Setting, int ExitCode, double WallSeconds, double? Accuracy,
        Dictionary<string, double> StageSeconds, Dictionary<string, double> ProgressStages, double PeakRssMB,
        double PeakHwmMB, double CpuSeconds, double? CacheMemoryMB, double? CacheDiskMB, double? TrainerPeakMB);

    public static Command Create()
    {
        var sizes = Arguments.List("--sizes", "Training images per run (stratified, of the 60,000)",
            [6000, 20000, 60000], int.Parse);
        var settings = Arguments.List("--settings", "fast (--fast), default (no flags) and names of --setting",
            ["fast", "default"], s => s);
        var custom = new Option<string[]>("--setting")
        {
            Description = "A setting of your own, name=flags: trainer train with these flags (repeatable), e.g. " +
                "budget=\"--budget 30\" (the default setting fine-tunes only within a --budget)",
            DefaultValueFactory = _ => [],
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
            HelpName = "name=flags",
        };
        var test = Arguments.Count("--test", "Test images (of the 10,000), the same for every size", 2000);
        var seed = Arguments.Seed();
        var source = Arguments.Source();
        var timeout = new Option<double>("--timeout-minutes")
        {
            Description = "A run still going then is killed and recorded as failed", DefaultValueFactory = _ => 360,
        };
        var work = new Option<string?>("--work")
        {
            Description = "Where the images and models go (deleted after) [default: a temporary folder]",
            HelpName = "folder",
        };
        var plot = new Option<string?>("--plot")
        {
            Description = "The SVG's path [default: beside the JSON result]", HelpName = "file.svg",
        };
        var results = Arguments.Results();
        var command = new Command("trainer", "The trainer alone at several sizes: time per stage and peak memory")
        {
            sizes, settings, custom, test, seed, source, timeout, work, plot, results,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetRequiredValue(sizes),
            Flags(parse.GetRequiredValue(settings), parse.GetRequiredValue(custom)),
            parse.GetRequiredValue(test), parse.GetRequiredValue(seed), parse.GetRequiredValue(source),
            TimeSpan.FromMinutes(parse.GetRequiredValue(timeout)), parse.GetValue(work), parse.GetValue(plot),
            parse.GetRequiredValue(results)));
        return command;
    }

    /// <summary>Each setting to run with its trainer flags, those of --settings then every other --setting; a name no
    /// setting defines maps to null.</summary>
    private static IReadOnlyList<(string Name, string[]? Flags)> Flags(IReadOnlyList<string> names,
        IReadOnlyList<string> custom)
    {
        var known = new Dictionary<string, string[]> { ["fast"] = ["--fast"], ["default"] = [] };
        foreach (var pair in custom.Select(c => c.Split('=', 2)))
            known[pair[0]] = pair.Length < 2 ? [] : pair[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var customNames = custom.Select(c => c.Split('=', 2)[0]).Where(n => !names.Contains(n));
        return [.. names.Concat(customNames).Distinct().Select(n => (n, known.GetValueOrDefault(n)))];
    }

    private static async Task<int> RunAsync(IReadOnlyList<int> sizes,
        IReadOnlyList<(string Name, string[]? Flags)> settings, int test, int seed, string source, TimeSpan timeout,
        string? workFolder, string? plot, string results)
    {
        if (FashionMnistFiles.Missing(source) is { } reason) return Arguments.Skip(reason);
        if (settings.FirstOrDefault(s => s.Flags is null) is { Name: { } unknown })
        {
            Console.Error.WriteLine($"error: no setting '{unknown}': --settings takes fast, default and the names " +
                "of --setting name=flags.");
            return 2;
        }
        var trainer = Path.Combine(Arguments.RepoRoot(), "trainer-container", "bin", "Release", "net10.0",
            "trainer.dll");
        if (!File.Exists(trainer))
        {
            Console.Error.WriteLine(
                $"error: no {trainer}: build it first (dotnet build trainer-container -c Release).");
            return 2;
        }
        var work = workFolder ?? Directory.CreateTempSubdirectory("fashion-trainer-").FullName;
        var started = Arguments.Machine();
        var runs = new List<Run>();
        try
        {
            foreach (var size in sizes)
            {
                var data = Path.Combine(work, $"fashion-{size}");
                if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
                WriteCommand.Write(source, data, size, test, seed);
                foreach (var setting in settings)
                {
                    var run = await TrainAsync(trainer, data, size, setting.Name, setting.Flags!, seed, timeout);
                    runs.Add(run);
                    Console.Error.WriteLine($"{size} images, {setting.Name}: exit {run.ExitCode}, " +
                        $"{run.WallSeconds:0} s, peak {run.PeakRssMB:0} MB, load average {Arguments.Load()}");
                }
                Directory.Delete(data, recursive: true);
            }
        }
        finally
        {
            if (workFolder is null) Directory.Delete(work, recursive: true);
        }
        var file = Arguments.WriteResult(results, "fashion-trainer", new
        {
            benchmark = "fashion-mnist trainer", started, finished = Arguments.Machine(), test, seed,
            settings = settings.ToDictionary(s => s.Name, s => string.Join(' ', s.Flags!)), runs,
        });
        var svg = plot ?? Path.ChangeExtension(file, ".svg");
        Plot(runs, svg, test);
        PrintTable(runs, test);
        Console.WriteLine($"\nResult: {file}\nPlot: {svg}");
        return runs.All(r => r.ExitCode == 0) ? 0 : 1;
    }

    private static async Task<Run> TrainAsync(string trainer, string data, int size, string setting, string[] flags,
        int seed, TimeSpan timeout)
    {
        var model = Path.Combine(data, $"model-{string.Concat(setting.Where(char.IsAsciiLetterOrDigit))}");
        string? last = null;
        var progress = new Dictionary<string, double>();
        using var watch = new ProcessWatch();
        var clock = Stopwatch.StartNew();
        using var child = ChildProcess.Start("dotnet", [trainer, "train", "--data", Path.Combine(data, "train"),
            "--test", Path.Combine(data, "test"), "--out", model, "--seed", $"{seed}",
            .. flags], "trainer", watch, line =>
        {
            last = line;
            // "[mm:ss] stage ..." : the last time each stage was seen in progress.
            if (ProgressLine().Match(line) is { Success: true } m)
                progress[m.Groups[3].Value] = int.Parse(m.Groups[1].Value) * 60 + int.Parse(m.Groups[2].Value);
        });
        var finished = await child.WaitAsync(timeout);
        var wall = clock.Elapsed.TotalSeconds;
        var figures = watch.Summary().GetValueOrDefault("trainer") ?? new ProcessWatch.Figures(0, 0, 0, 0);
        var exit = finished ? child.ExitCode : -1;
        JsonElement? result = null;
        if (exit == 0 && last is not null)
            try { result = JsonDocument.Parse(last).RootElement.Clone(); } catch (JsonException) { }
        var stages = new Dictionary<string, double>();
        double? cacheMemory = null, cacheDisk = null;
        var manifest = Path.Combine(model, "model.json");
        if (File.Exists(manifest))
        {
            using var json = JsonDocument.Parse(File.ReadAllText(manifest));
            if (json.RootElement.TryGetProperty("timings", out var timings))
                foreach (var p in timings.EnumerateObject())
                    if (p.Value.ValueKind == JsonValueKind.Number) stages[p.Name] = p.Value.GetDouble();
            if (json.RootElement.TryGetProperty("caches", out var caches) && caches.ValueKind == JsonValueKind.Object)
            {
                cacheMemory = Number(caches, "memoryMB");
                cacheDisk = Number(caches, "diskMB");
            }
        }
        if (Directory.Exists(model)) Directory.Delete(model, recursive: true);
        return new Run(size, setting, exit, Math.Round(wall, 1), result is { } r ? Number(r, "accuracy") : null,
            stages, progress, figures.PeakRssMB, figures.PeakHwmMB, figures.CpuSeconds, cacheMemory, cacheDisk,
            result is { } r2 ? Number(r2, "peakMemoryMB") : null);
    }

    private static double? Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    [GeneratedRegex(@"^\[(\d+):(\d\d)\] ([a-z][a-z-]*)")]
    private static partial Regex ProgressLine();

    private static void PrintTable(IReadOnlyList<Run> runs, int test)
    {
        string S(Run r, string name) => r.StageSeconds.TryGetValue(name, out var s) ? $"{s:0.0}" : "";
        Console.WriteLine($"Fashion-MNIST, trainer alone ({test} test images), {Arguments.Now()}, load average " +
            $"{Arguments.Load()}");
        Console.WriteLine("| train images | setting | load s | features s | head s | fine-tune s | evaluate s | " +
            "total s | ms/image | peak RSS MB | VmHWM MB | CPU s | cache disk MB | accuracy |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            var total = r.StageSeconds.GetValueOrDefault("totalSeconds", r.WallSeconds);
            Console.WriteLine($"| {r.Images} | {r.Setting}{(r.ExitCode == 0 ? "" : $" (exit {r.ExitCode})")} " +
                $"| {S(r, "loadSeconds")} | {S(r, "featureSeconds")} | {S(r, "headSeconds")} | " +
                $"{S(r, "fineTuneSeconds")} | {S(r, "evaluateSeconds")} | {total:0.0} | " +
                $"{1000 * total / r.Images:0.0} | {r.PeakRssMB:0} | {r.PeakHwmMB:0} | {r.CpuSeconds:0} | " +
                $"{r.CacheDiskMB:0} | {r.Accuracy:0.000} |");
        }
    }

    /// <summary>Time and memory against the training images, per setting; time's dashed line is the smallest
    /// size's time scaled in proportion (linear growth), memory's dotted line the 2.5 GB target.</summary>
    private static void Plot(IReadOnlyList<Run> runs, string file, int test)
    {
        var settings = runs.Select(r => r.Setting).Distinct().ToList();
        var time = new List<SvgPlot.Series>();
        var memory = new List<SvgPlot.Series>();
        for (var i = 0; i < settings.Count; i++)
        {
            var ok = runs.Where(r => r.Setting == settings[i] && r.ExitCode == 0).OrderBy(r => r.Images).ToList();
            if (ok.Count == 0) continue;
            var seconds = ok.Select(r => ((double)r.Images,
                r.StageSeconds.GetValueOrDefault("totalSeconds", r.WallSeconds))).ToList();
            time.Add(new($"{settings[i]}: total s", seconds, i));
            var (x0, y0) = seconds[0];
            time.Add(new($"{settings[i]}: linear from {x0:0}", [.. seconds.Select(p => (p.Item1, y0 * p.Item1 / x0))],
                i, Dashed: true));
            memory.Add(new($"{settings[i]}: peak RSS MB", [.. ok.Select(r => ((double)r.Images, r.PeakRssMB))], i));
        }
        SvgPlot.Write(file, $"Fashion-MNIST, trainer alone ({test} test images; {Arguments.Now()}, load average " +
            $"{Arguments.Load()})",
        [
            new("Time against training images", "training images", "seconds", time),
            new("Peak memory against training images", "training images", "MB", memory, (2560, "2.5 GB target")),
        ]);
    }
}
