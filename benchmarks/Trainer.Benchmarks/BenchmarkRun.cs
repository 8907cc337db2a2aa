using System.Text.Json;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// <c>run</c>: for each dataset, the trainer at each setting and then the ML.NET route, each in its own child process
/// and strictly one after another, so no run's timing shares the cores with another's.
/// </summary>
public static class BenchmarkRun
{
    private static readonly Dictionary<string, string[]> SettingFlags = new(StringComparer.Ordinal)
    {
        ["fast"] = ["--fast"],
        ["default"] = [],
    };

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static int Command(IEnumerable<string> args)
    {
        var a = new Arguments(args, "--datasets", "--settings", "--shared", "--out", "--limit");
        if (a.Positionals.Count > 0) throw new UsageException($"run takes no '{a.Positionals[0]}'.");
        var settings = a.List("--settings", "fast,default");
        foreach (var s in settings.Where(s => !SettingFlags.ContainsKey(s)))
            throw new UsageException($"Unknown setting '{s}'; use {string.Join(" or ", SettingFlags.Keys)}.");
        var repo = RepoRoot();
        var datasetsFolder = DatasetsFolder(a.Text("--shared"), repo);
        var datasets = a.List("--datasets", "hymenoptera,cats-vs-dogs,flowers-small");
        foreach (var d in datasets.Where(d => !Directory.Exists(Path.Combine(datasetsFolder, d))))
            throw new UsageException($"No dataset '{d}' in {datasetsFolder}.");
        var limit = a.Int("--limit");
        var outFolder = a.Text("--out") is { } o ? Path.GetFullPath(o) : Path.Combine(repo, "benchmarks", "results");
        var resultFile = Path.Combine(outFolder, $"trainer-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        var trainerDll = TrainerDll(repo);

        var work = Directory.CreateTempSubdirectory("trainer-benchmarks-").FullName;
        var rows = new List<ResultRow>();
        try
        {
            foreach (var dataset in datasets)
            {
                var split = Path.Combine(work, dataset);
                var counts = DatasetSplit.Make(Path.Combine(datasetsFolder, dataset), split, limit: limit);
                Console.Error.WriteLine($"{dataset}: {counts.Values.Sum(c => c.Train)} train, {counts.Values.Sum(c => c.Test)} test images in {counts.Count} labels");
                var train = Path.Combine(split, "train");
                var test = Path.Combine(split, "test");
                foreach (var setting in settings)
                {
                    var model = Path.Combine(work, $"{dataset}-{setting}-model");
                    var run = ChildRun.Run("dotnet", [trainerDll, "train", "--data", train, "--test", test, "--out", model, .. SettingFlags[setting]], $"{dataset} {setting}");
                    rows.Add(TrainerRow(dataset, setting, run));
                    Save(resultFile, rows, limit);
                }
                var self = typeof(BenchmarkRun).Assembly.Location;
                rows.Add(MlNetRow(dataset, ChildRun.Run("dotnet", [self, "mlnet", "--train", train, "--test", test], $"{dataset} ml.net")));
                Save(resultFile, rows, limit);
            }
        }
        finally
        {
            // Only symlinks and trained models are in here; deleting a link never touches the dataset it points to.
            Directory.Delete(work, recursive: true);
        }
        Console.WriteLine(ResultRow.Markdown(rows));
        Console.WriteLine($"Rows written to {resultFile}");
        return rows.All(r => r.ExitCode == 0) ? 0 : 1;
    }

    private static ResultRow TrainerRow(string dataset, string setting, ChildRun run)
    {
        var r = run.Result;
        var timings = Timings(r);
        // model.json's totalSeconds includes evaluation, which is left out here as it is for ML.NET.
        var toModel = timings is not null ? Number(timings, "totalSeconds") - Number(timings, "evaluateSeconds") : Number(r, "trainSeconds");
        var (peak, source) = Peak(r, run);
        return new ResultRow(dataset, $"trainer {setting}", Number(r, "accuracy"), Number(r, "macroF1"), Round(toModel),
            Round(Number(timings, "featureImagesPerSecond")), Round(FineTuneRate(timings)), peak, source,
            Round(Number(timings, "evaluateSeconds")), Math.Round(run.WallSeconds, 2), run.ExitCode);
    }

    private static ResultRow MlNetRow(string dataset, ChildRun run)
    {
        var (peak, source) = Peak(run.Result, run);
        return new ResultRow(dataset, "ml.net", Number(run.Result, "accuracy"), Number(run.Result, "macroF1"), Number(run.Result, "seconds"),
            null, null, peak, source, Number(run.Result, "evaluateSeconds"), Math.Round(run.WallSeconds, 2), run.ExitCode);
    }

    /// <summary>No rate where nothing was fine-tuned (the fast setting), rather than a misleading 0.</summary>
    private static double? FineTuneRate(JsonElement? timings) =>
        Number(timings, "fineTuneSeconds") > 0 ? Number(timings, "fineTuneImagesPerSecond") : null;

    /// <summary>The stage timings in model.json, which the trainer writes beside model.onnx.</summary>
    private static JsonElement? Timings(JsonElement? result)
    {
        if (result is not { ValueKind: JsonValueKind.Object } r || !r.TryGetProperty("modelPath", out var path) || path.GetString() is not { } modelPath)
            return null;
        var manifest = Path.Combine(Path.GetDirectoryName(modelPath)!, "model.json");
        if (!File.Exists(manifest)) return null;
        using var document = JsonDocument.Parse(File.ReadAllText(manifest));
        return document.RootElement.TryGetProperty("timings", out var timings) ? timings.Clone() : null;
    }

    private static (long? MB, string Source) Peak(JsonElement? result, ChildRun run) =>
        Number(result, "peakMemoryMB") is { } reported ? ((long)reported, "reported") : (run.SampledPeakMemoryMB, "sampled VmRSS");

    private static double? Number(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 2) : null;

    private static void Save(string file, List<ResultRow> rows, int? limit)
    {
        // Written after every run, so a crash late in a long benchmark keeps what was measured.
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var report = new { createdAt = DateTimeOffset.UtcNow, limitPerLabel = limit, processorCount = Environment.ProcessorCount, rows };
        File.WriteAllText(file, JsonSerializer.Serialize(report, JsonOptions));
    }

    /// <summary>The folder holding Pipeline.sln, found by walking up from the current directory.</summary>
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new UsageException("Run this inside the repository: no folder above the current one holds Pipeline.sln.");
    }

    /// <summary>The datasets live beside the repository in ../shared/datasets; --shared names that folder or the shared/ above it.</summary>
    private static string DatasetsFolder(string? given, string repo)
    {
        var folder = Path.GetFullPath(given ?? Path.Combine(repo, "..", "shared", "datasets"));
        if (given is not null && Directory.Exists(Path.Combine(folder, "datasets"))) folder = Path.Combine(folder, "datasets");
        if (!Directory.Exists(folder))
            throw new UsageException($"The datasets folder '{folder}' does not exist. The benchmark reads the shared datasets from ../shared/datasets beside the repository (or give --shared <path>).");
        return folder;
    }

    /// <summary>The trainer's Release build, built once if it is missing.</summary>
    private static string TrainerDll(string repo)
    {
        var dll = Path.Combine(repo, "trainer-container", "bin", "Release", "net10.0", "trainer.dll");
        if (File.Exists(dll)) return dll;
        Console.Error.WriteLine($"{dll} is missing; building the trainer in Release.");
        var build = ChildRun.Run("dotnet", ["build", Path.Combine(repo, "trainer-container"), "-c", "Release"], "build");
        if (build.ExitCode != 0 || !File.Exists(dll)) throw new InvalidOperationException($"Building the trainer failed (exit {build.ExitCode}).");
        return dll;
    }
}
