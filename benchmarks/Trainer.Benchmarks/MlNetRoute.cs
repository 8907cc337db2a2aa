using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// The standard ML.NET route, as its documentation shows it: images through the ResNet18 DNN featurizer, then
/// L-BFGS maximum entropy on the features, all defaults. The peer the trainer is measured against.
/// </summary>
public static class MlNetRoute
{
    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    /// <summary>
    /// <c>mlnet --train &lt;folder&gt; --test &lt;folder&gt;</c>; the last line on standard output is the result
    /// as JSON.
    /// </summary>
    public static Command CreateCommand()
    {
        var train = new Option<DirectoryInfo>("--train")
        {
            Description = "Training images, one folder per label",
            HelpName = "folder",
            Required = true,
        };
        var test = new Option<DirectoryInfo>("--test")
        {
            Description = "Test images, one folder per label",
            HelpName = "folder",
            Required = true,
        };
        train.AcceptExistingOnly();
        test.AcceptExistingOnly();
        var command = new Command("mlnet",
            "The ML.NET route (ResNet18 featurizer + L-BFGS maximum entropy); the last line on standard output is JSON")
        {
            train, test,
        };
        command.SetAction(parse => Run(parse.GetRequiredValue(train).FullName, parse.GetRequiredValue(test).FullName));
        return command;
    }

    private static int Run(string trainFolder, string testFolder)
    {
        var ml = new MLContext(seed: 0);
        var clock = Stopwatch.StartNew();
        var labels = DatasetSplit.Labels(trainFolder);
        var train = Rows(trainFolder, labels);
        Console.Error.WriteLine($"ml.net: {labels.Count} labels, {train.Count} train images");
        var pipeline = ml.Transforms.LoadImages("ImageObject", imageFolder: "", "ImagePath")
            .Append(ml.Transforms.ResizeImages("ImageObject", imageWidth: 224, imageHeight: 224))
            .Append(ml.Transforms.ExtractPixels("Pixels", "ImageObject"))
            .Append(ml.Transforms.DnnFeaturizeImage("Features",
                m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "Pixels"))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy())
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(ml.Data.LoadFromEnumerable(train));
        var seconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var test = Rows(testFolder, labels);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(test)));
        var evaluateSeconds = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"ml.net: {test.Count} test images; micro accuracy {metrics.MicroAccuracy:0.0000}");

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            accuracy = metrics.MicroAccuracy,
            macroF1 = MacroF1(metrics),
            seconds = Math.Round(seconds, 2),
            evaluateSeconds = Math.Round(evaluateSeconds, 2),
            peakMemoryMB = Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024),
            trainImages = train.Count,
            testImages = test.Count,
        }));
        return 0;
    }

    /// <summary>
    /// The labelled images of a folder that ML.NET can load. One bad file would fail the whole Fit or Evaluate,
    /// so each is tried with ML.NET's own image loader first and skipped with a message.
    /// </summary>
    private static List<ImageRow> Rows(string folder, IReadOnlyList<string> labels)
    {
        var rows = new List<ImageRow>();
        foreach (var label in labels)
        {
            var labelFolder = Path.Combine(folder, label);
            if (!Directory.Exists(labelFolder)) continue;
            foreach (var file in DatasetSplit.Files(labelFolder))
            {
                try
                {
                    using var image = MLImage.CreateFromFile(file);
                    rows.Add(new ImageRow { ImagePath = Path.GetFullPath(file), Label = label });
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
                {
                    Console.Error.WriteLine($"skipped {file}: ML.NET's image loader cannot decode it "
                        + $"({e.GetType().Name}: {e.Message})");
                }
            }
        }
        foreach (var other in DatasetSplit.Labels(folder).Except(labels))
            Console.Error.WriteLine($"skipped {Path.Combine(folder, other)}: the label is not in the training data");
        return rows;
    }

    /// <summary>ML.NET reports macro accuracy (mean recall), not macro F1; this is the mean of per-label F1.</summary>
    private static double MacroF1(MulticlassClassificationMetrics m) =>
        m.ConfusionMatrix.PerClassPrecision.Zip(m.ConfusionMatrix.PerClassRecall, (p, r) => p + r > 0
            ? 2 * p * r / (p + r) : 0).Average();
}
