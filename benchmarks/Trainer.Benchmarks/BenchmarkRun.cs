using System.Globalization;
using System.Text.Json;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// <c>run</c>: for each dataset and each seeded split of it, the ML.NET route and then the trainer at each setting,
/// each in its own child process and strictly one after another, so no run's timing shares the cores with another's
/// and each trainer run is compared with an ML.NET run on the same split under the same machine conditions.
/// </summary>
public static partial class BenchmarkRun
{
    public static readonly IReadOnlyList<string> AllDatasets =
        ["hymenoptera", "cats-vs-dogs", "flowers-small", "brain-mri", "toy-dogs"];

    private sealed record Plan(string DatasetsFolder, IReadOnlyList<string> Datasets, IReadOnlyList<int> Seeds,
        IReadOnlyList<BenchmarkSetting> Settings, int? Limit, TimeSpan Timeout, string TrainerDll, string ResultFile);

    private static int Execute(Plan plan)
    {
        var self = typeof(BenchmarkRun).Assembly.Location;
        var work = Directory.CreateTempSubdirectory("trainer-benchmarks-").FullName;
        var rows = new List<ResultRow>();
        void Save() => new ResultFile(DateTimeOffset.UtcNow, plan.Limit, Environment.ProcessorCount, rows, plan.Seeds,
                plan.Settings.ToDictionary(s => s.Name, s => string.Join(' ', s.Flags)), plan.Timeout.TotalMinutes)
                .Save(plan.ResultFile);
        try
        {
            foreach (var dataset in plan.Datasets)
                foreach (var seed in plan.Seeds)
                {
                    var split = Path.Combine(work, $"{dataset}-seed{seed}");
                    var source = Path.Combine(plan.DatasetsFolder, dataset);
                    var counts = DatasetSplit.Make(source, split, seed, limit: plan.Limit);
                    Console.Error.WriteLine($"{dataset} seed {seed}: {counts.Values.Sum(c => c.Train)} train, " +
                        $"{counts.Values.Sum(c => c.Test)} test images in {counts.Count} labels");
                    var train = Path.Combine(split, "train");
                    var test = Path.Combine(split, "test");
                    string[] mlnetArgs = [self, "mlnet", "--train", train, "--test", test];
                    var mlnet = ChildRun.Run("dotnet", mlnetArgs, $"{dataset} {seed} ml.net", plan.Timeout);
                    rows.Add(MlNetRow(dataset, seed, mlnet));
                    Save();
                    foreach (var setting in plan.Settings)
                    {
                        var model = Path.Combine(work, $"{dataset}-seed{seed}-{setting.Name}-model");
                        string[] args = [plan.TrainerDll, "train", "--data", train, "--test", test, "--out", model,
                                "--seed", seed.ToString(CultureInfo.InvariantCulture), .. setting.Flags];
                        var run = ChildRun.Run("dotnet", args, $"{dataset} {seed} {setting.Name}", plan.Timeout);
                        rows.Add(TrainerRow(dataset, seed, setting.Name, run));
                        Save();
                        // model.json has been read; the models would fill the disk over a long benchmark.
                        if (Directory.Exists(model)) Directory.Delete(model, recursive: true);
                    }
                    Directory.Delete(split, recursive: true);
                }
        }
        finally
        {
            // Only symlinks and trained models are in here; deleting a link never touches the dataset it points to.
            Directory.Delete(work, recursive: true);
        }
        Console.WriteLine(ResultRow.Markdown(rows));
        Console.WriteLine(Summary.Markdown([ResultFile.Load(plan.ResultFile)], Console.Error));
        Console.WriteLine($"Rows written to {plan.ResultFile}");
        return rows.All(r => r.Succeeded) ? 0 : 1;
    }

    private static ResultRow TrainerRow(string dataset, int seed, string setting, ChildRun run)
    {
        var r = run.Result;
        var manifest = TrainerManifest.Read(r);
        var timings = manifest.Timings;
        // model.json's totalSeconds includes evaluation, which is left out here as it is for ML.NET.
        var toModel = timings is not null
            ? JsonFields.Number(timings, "totalSeconds") - JsonFields.Number(timings, "evaluateSeconds")
            : JsonFields.Number(r, "trainSeconds");
        var (peak, source) = Peak(r, run);
        return new ResultRow(dataset, $"trainer {setting}", JsonFields.Number(r, "accuracy"),
            JsonFields.Number(r, "macroF1"), Round(toModel),
                Round(JsonFields.Number(timings, "featureImagesPerSecond")),
                Round(FineTuneRate(timings)), peak, source,
            Round(JsonFields.Number(timings, "evaluateSeconds")), Math.Round(run.WallSeconds, 2), run.ExitCode, seed,
            run.TimedOut, manifest.Path, manifest.Recipe);
    }

    private static ResultRow MlNetRow(string dataset, int seed, ChildRun run)
    {
        var r = run.Result;
        var (peak, source) = Peak(r, run);
        return new ResultRow(dataset, ResultRow.MlNet, JsonFields.Number(r, "accuracy"),
            JsonFields.Number(r, "macroF1"),
            JsonFields.Number(r, "seconds"), null, null, peak, source, JsonFields.Number(r, "evaluateSeconds"),
            Math.Round(run.WallSeconds, 2), run.ExitCode, seed, run.TimedOut);
    }

    /// <summary>No rate where nothing was fine-tuned (the fast setting), rather than a misleading 0.</summary>
    private static double? FineTuneRate(JsonElement? timings) =>
        JsonFields.Number(timings, "fineTuneSeconds") > 0
            ? JsonFields.Number(timings, "fineTuneImagesPerSecond")
            : null;

    private static (long? MB, string Source) Peak(JsonElement? result, ChildRun run) =>
        JsonFields.Number(result, "peakMemoryMB") is { } reported
            ? ((long)reported, "reported")
            : (run.SampledPeakMemoryMB, "sampled VmRSS");

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 2) : null;
}
