using System.CommandLine;
using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Trainer.Report;
using Pipeline.Trainer.Training;

namespace Pipeline.Trainer.Cli;

/// <summary><c>trainer train --data &lt;folder&gt; --out &lt;folder&gt; [options]</c>: trains one model version from
/// folders on disk.</summary>
public static class FolderTrainCommand
{
    public const int Refused = 2;

    private const string Description = """
        Train a model version from folders of images on disk.

        <folder> holds one folder per label. If it holds train/ and test/ (or val/) folders, they are the split;
        otherwise a seeded, stratified 20 % of each label becomes the test split. Options default to those of an empty
        train.json ({}); --fast starts from the fast setting instead, --options from a train.json file, and the flags
        given override either.

        Prints progress per epoch, the files it could not use with reasons, and as its last line on standard
        output one line of JSON: accuracy, macroF1, logLoss, trainSeconds, imagesPerSecond (train and validation
        images over trainSeconds), modelPath, version, skipped, peakMemoryMB, cacheDiskMB.
        Decoded images and fine-tuning's activations stay in memory up to --memory-cap MB; beyond it they go to
        temporary files (deleted after the run), with the same model.
        Exit codes: 0 trained; 1 failed; 2 refused (bad arguments or options, fewer than 2 labels, a label with fewer
        than 5 usable images).
        """;

    public static Command Create()
    {
        var data = new Option<string>("--data")
        {
            Description = "images, one folder per label", HelpName = "folder", Required = true
        };
        var test = new Option<string?>("--test")
        {
            Description = "a separate test folder, one folder per label", HelpName = "folder"
        };
        var output = new Option<string>("--out")
        {
            Description = "where model.onnx, model.json and checkpoint.dat go", HelpName = "folder", Required = true,
        };
        var fast = new Option<bool>("--fast")
        {
            Description = "frozen backbone only, never fine-tuned: the quickest model"
        };
        var file = new Option<string?>("--options")
        {
            Description = "training options as JSON (as in train.json); the flags below override it",
            HelpName = "file.json",
        };
        var memoryCap = new Option<int>("--memory-cap")
        {
            Description = "memory the caches of images and activations may hold; beyond it they go to disk",
            HelpName = "MB", DefaultValueFactory = _ => CacheSpace.DefaultMemoryCapMB,
        };
        var flags = new TrainingOptionFlags();
        var command = new Command("train", Description) { data, test, output, fast, file, memoryCap };
        foreach (var flag in flags.Options) command.Options.Add(flag);
        command.SetAction(async (parse, ct) =>
        {
            if (Options(parse.GetValue(fast), parse.GetValue(file), parse, flags) is not { } options) return Refused;
            var cap = parse.GetValue(memoryCap);
            if (cap < 0)
            {
                Refuse($"--memory-cap must be 0 or more megabytes, not {cap}.");
                return Refused;
            }
            var dataFolder = parse.GetValue(data)!;
            var dataset = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataFolder)));
            return await RunAsync(new TrainingRequest(dataFolder, parse.GetValue(test), parse.GetValue(output)!,
                options, dataset, MemoryCapMB: cap), ct);
        });
        return command;
    }

    /// <summary>The options the user asked for, validated by <see cref="TrainingOptions.Validate"/>; null (said why)
    /// when not valid.</summary>
    private static TrainingOptions? Options(bool fast, string? file, ParseResult parse, TrainingOptionFlags flags)
    {
        if (fast && file is not null) return Refuse("Give --fast or --options, not both.");
        var baseline = fast ? TrainingOptions.Fast : new TrainingOptions();
        if (file is not null)
        {
            string json;
            try { json = File.ReadAllText(file); }
            catch (IOException e) { return Refuse($"Cannot read options from '{file}': {e.Message}"); }
            if (TrainingOptions.Parse(json, out var reason) is not { } read) return Refuse($"{file}: {reason}");
            baseline = read;
        }
        var options = flags.Apply(parse, baseline);
        var problems = options.Validate();
        return problems.Count == 0 ? options : Refuse(string.Join(Environment.NewLine + "error: ", problems));
    }

    private static TrainingOptions? Refuse(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        Console.Error.WriteLine("Run 'trainer train --help' for the options.");
        return null;
    }

    private static async Task<int> RunAsync(TrainingRequest request, CancellationToken ct)
    {
        try
        {
            var outcome = await TrainingRun.RunAsync(request, new ConsoleProgress(), ct);
            var m = outcome.Manifest;
            foreach (var s in m.Skipped) Console.WriteLine($"skipped {s.Path}: {s.Reason}");
            if (ReportWriter.TryWrite(outcome, null,
                    e => Console.Error.WriteLine($"warning: no report written: {e.Message}")) is { } report)
                Console.WriteLine($"report {report}");
            Console.WriteLine($"test accuracy {m.Metrics.Accuracy:0.0000}, macro F1 {m.Metrics.MacroF1:0.0000} on " +
                $"{m.Metrics.TestImages} images; model in {outcome.ModelFolder}");
            // Throughput of the whole run over the images it learned from (train and validation).
            var trainImages = m.ImageCounts.Values.Sum(c => c["train"] + c["validation"]);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                accuracy = m.Metrics.Accuracy,
                macroF1 = m.Metrics.MacroF1,
                logLoss = m.Metrics.LogLoss,
                trainSeconds = Math.Round(m.Timings.TotalSeconds, 2),
                imagesPerSecond = Math.Round(trainImages / Math.Max(m.Timings.TotalSeconds, 1e-9), 2),
                modelPath = Path.GetFullPath(Path.Combine(outcome.ModelFolder, ModelFiles.Model)),
                version = m.Version,
                skipped = m.Skipped.Count,
                peakMemoryMB = System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024),
                cacheDiskMB = m.Caches?.DiskMB ?? 0,
            }));
            return 0;
        }
        catch (DatasetRefusedException e)
        {
            Console.Error.WriteLine($"refused: {e.Message}");
            return Refused;
        }
    }
}
