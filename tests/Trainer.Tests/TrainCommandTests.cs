using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Scoring;
using Pipeline.Trainer.Training;
using SixLabors.ImageSharp;
using Xunit;

namespace Pipeline.Trainer.Tests;

public class TrainCommandTests
{
    [Fact]
    public void Trains_generated_images_and_ends_with_a_json_summary_and_the_skipped_files()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 12);
        File.WriteAllText(Path.Combine(data, "circles", "notes.txt"), "not an image");
        File.WriteAllBytes(Path.Combine(data, "squares", "empty.jpg"), []);

        var run = TrainerCommandLine.Run("train", "--data", data, "--out", temp["model"], "--fast", "--head-epochs",
            "15");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var summary = run.Summary;
        Assert.True(summary.GetProperty("accuracy").GetDouble() >= 0.85, run.Output);
        Assert.True(summary.GetProperty("macroF1").GetDouble() >= 0.85, run.Output);
        Assert.True(summary.GetProperty("trainSeconds").GetDouble() > 0);
        Assert.True(summary.GetProperty("imagesPerSecond").GetDouble() > 0);
        Assert.Equal(Path.Combine(temp["model"], "model.onnx"), summary.GetProperty("modelPath").GetString());
        Assert.Contains(run.Lines, l => l.StartsWith("skipped") && l.Contains("notes.txt")
            && l.Contains("supported format"));
        Assert.Contains(run.Lines, l => l.StartsWith("skipped") && l.Contains("empty.jpg") && l.Contains("empty"));
        Assert.Contains(run.Lines, l => l.Contains("features") && l.Contains("images/s") && l.Contains("left"));
        Assert.Contains(run.Lines, l => l.Contains("head: lbfgs") && l.Contains("cross-validation: accuracy"));

        var manifest = ModelFiles.ReadManifest(File.ReadAllText(Path.Combine(temp["model"], "model.json")));
        Assert.Equal(SyntheticImages.Labels.Order(StringComparer.Ordinal), manifest.Labels);
        Assert.Equal(2, manifest.Skipped.Count);
        Assert.True(File.Exists(Path.Combine(temp["model"], TrainingRun.CheckpointFile)));
        Assert.Equal(36, manifest.ImageCounts.Values.Sum(c => c.Values.Sum()));
    }

    public static TheoryData<string> Kinds
        => ["int8 frozen", "float frozen", "int8 fine-tuned, mirror average", "adamw head"];

    private static TrainingOptions Kind(string kind) => kind switch
    {
        "int8 frozen" => TrainingOptions.Fast,
        "float frozen" => TrainingOptions.Fast with { Int8 = false },
        "int8 fine-tuned, mirror average"
            => new TrainingOptions { FineTune = "always", FineTuneEpochs = 1, FlipTestTimeAugmentation = true },
        _ => TrainingOptions.Fast with { HeadOptimizer = "adamw", HeadEpochs = 10 },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_exported_model_scores_the_test_split_exactly_as_the_trainer_reported(string kind)
    {
        using var temp = new TempFolder();
        var train = SyntheticImages.WriteDataset(temp["train"], 10, seed: 2);
        var test = SyntheticImages.WriteDataset(temp["test"], 6, seed: 3);
        var outcome = TrainingRun.Run(new TrainingRequest(train, test, temp["model"], Kind(kind)), null, default);

        // Score the test files from disk, as the HTTP endpoint would, with a fresh scorer.
        using var scorer = Scorer.Load(temp["model"]);
        var files = outcome.Manifest.Labels.SelectMany((l, k)
            => Directory.EnumerateFiles(Path.Combine(test, l)).Select(f => (f, k))).ToList();
        var images = files.Select(f => ImageFile.Decode(f.f, ImageLimits.Default)).ToList();
        var metrics = Evaluation.Measure(scorer.Probabilities(images), files.Select(f => f.k).ToList(),
            outcome.Manifest.Labels);
        images.ForEach(i => i.Dispose());

        Assert.Equal(outcome.Manifest.Metrics.TestImages, files.Count);
        Assert.Equal(outcome.Manifest.Metrics.Accuracy, metrics.Accuracy);
        Assert.Equal(outcome.Manifest.Metrics.LogLoss, metrics.LogLoss, 6);
        Assert.Equal(outcome.Manifest.Metrics.ConfusionMatrix, metrics.ConfusionMatrix);
        // The fast setting's head: both layers' features, no comparison of them; scaling and strength from 3 folds.
        if (kind == "int8 frozen")
            Assert.Matches("on layer4 and layer3 features (standardised each apart|centred and scaled together), L2 ",
                outcome.Manifest.Recipe!.Head);
        if (kind == "int8 frozen")
            Assert.EndsWith("scaling and L2 chosen by 3-fold cross-validation", outcome.Manifest.Recipe!.Head);
    }

    [Fact]
    public void A_square_filed_under_circles_in_the_test_split_is_among_circles_most_confident_mistakes()
    {
        using var temp = new TempFolder();
        var data = temp["data"];
        SyntheticImages.WriteDataset(Path.Combine(data, "train"), 10, seed: 2);
        SyntheticImages.WriteDataset(Path.Combine(data, "test"), 6, seed: 3);
        using (var drawn = SyntheticImages.Draw(1, new Random(4)))
            drawn.SaveAsJpeg(Path.Combine(data, "test", "circles", "actually-a-square.jpg"));
        var outcome = TrainingRun.Run(new TrainingRequest(data, null, temp["model"], TrainingOptions.Fast), null,
            default);

        var json = File.ReadAllText(Path.Combine(temp["model"], ModelFiles.Mistakes));
        var mistakes = JsonSerializer.Deserialize<TestMistakes>(json, Json.Options)!;
        var manifest = outcome.Manifest;
        Assert.Equal((manifest.Dataset, manifest.Version), (mistakes.Dataset, mistakes.Version));
        Assert.Equal(TestMistakes.FileImages, mistakes.Images);
        Assert.Equal(manifest.Labels, mistakes.Labels.Keys);
        var square = Assert.Single(mistakes.Labels["circles"], m => m.Image == "test/circles/actually-a-square.jpg");
        Assert.Equal(("circles", "squares"), (square.Label, square.Predicted));
        Assert.True(square.Confidence > square.LabelProbability, json);
        foreach (var (label, list) in mistakes.Labels)
        {
            Assert.True(list.Count <= TestMistakes.PerLabel);
            Assert.All(list, m => Assert.True(m.Label == label && m.Predicted != label
                && m.Confidence >= m.LabelProbability && m.Image.StartsWith($"test/{label}/"), json));
            Assert.Equal(list.OrderByDescending(m => m.Confidence).ToList(), list);
            // Every wrong answer the confusion matrix counts is listed (each label has fewer than the cap here).
            var k = manifest.Labels.ToList().IndexOf(label);
            Assert.Equal(manifest.Metrics.ConfusionMatrix[k].Sum() - manifest.Metrics.ConfusionMatrix[k][k],
                list.Count);
        }
        Assert.Contains("\"labelProbability\":", json.Replace(" ", ""));
        // model.json stays small: the mistakes are a file of their own.
        Assert.DoesNotContain("actually-a-square", File.ReadAllText(Path.Combine(temp["model"], "model.json")));
    }

    [Fact]
    public void Refuses_a_single_label_with_exit_code_2()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 6, labels: ["only"]);
        var run = TrainerCommandLine.Run("train", "--data", data, "--out", temp["model"], "--fast");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("at least 2 are needed", run.Error);
        Assert.False(Directory.Exists(temp["model"]));
    }

    [Fact]
    public void A_job_s_refusal_names_its_dataset_and_labels_not_its_temporary_folder()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 6, labels: ["only"]);
        var refused = Assert.Throws<DatasetRefusedException>(() => TrainingRun.Run(
            new TrainingRequest(data, null, temp["model"], TrainingOptions.Fast, "flowers", "20261201-120000-abcdef"),
                null, default));
        Assert.Equal("Dataset 'flowers' has 1 label(s) with training images ('only'); at least 2 are needed (a " +
            "Negative folder of images of no label counts). Upload each label's images to uploads/flowers/<label>/.",
            refused.Message);
        Assert.DoesNotContain(data, refused.Message);
    }

    [Fact]
    public void Refuses_a_label_with_fewer_than_5_usable_images_with_exit_code_2()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 8, labels: ["circles", "squares"]);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(data, "squares")).Skip(3)) File.WriteAllText(file,
            "broken");
        var run = TrainerCommandLine.Run("train", "--data", data, "--out", temp["model"], "--fast");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("'squares' (3)", run.Error);
    }

    [Fact]
    public void Refuses_unknown_options_and_documents_every_option_in_help()
    {
        var bad = TrainerCommandLine.Run("train", "--data", "x", "--out", "y", "--epochs-please", "3");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("'--epochs-please'", bad.Error);

        var help = TrainerCommandLine.Run("train", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var flag in new[] { "--data", "--test", "--out", "--fast", "--options" }) Assert.Contains(flag,
            help.Output);
        // Every training option's flag, with its default, comes from the one list in core.
        Assert.True(TrainingOptions.All.Count > 20);
        foreach (var option in TrainingOptions.All)
        {
            var line = help.Lines.FirstOrDefault(l => l.StartsWith(option.Flag + " ", StringComparison.Ordinal));
            Assert.True(line is not null, $"{option.Flag} is not in the help");
            if (!option.IsSwitchOff) Assert.Contains($"[default: {option.Default}]", line);
        }
    }

    [Fact]
    public void Refuses_options_that_break_the_rule_of_train_json_with_exit_code_2()
    {
        using var temp = new TempFolder();
        var flag = TrainerCommandLine.Run("train", "--data", temp["data"], "--out", temp["model"], "--fine-tune-stages",
            "5");
        Assert.Equal(2, flag.ExitCode);
        Assert.Contains("fineTuneStages (--fine-tune-stages) must be a whole number from 0 to 4", flag.Error);

        var file = Path.Combine(temp["data"], "train.json");
        Directory.CreateDirectory(temp["data"]);
        File.WriteAllText(file, """{ "resize": "stretch" }""");
        var fromFile = TrainerCommandLine.Run("train", "--data", temp["data"], "--out", temp["model"], "--options",
            file);
        Assert.Equal(2, fromFile.ExitCode);
        Assert.Contains("resize (--resize) must be one of crop, squash", fromFile.Error);
        Assert.False(Directory.Exists(temp["model"]));
    }

    [Fact]
    public void Same_seed_same_model()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 8, seed: 5);
        var options = TrainingOptions.Fast with { FineTune = "always", AugmentedViews = 1, FineTuneEpochs = 1 };
        var first = TrainingRun.Run(new TrainingRequest(data, null, temp["a"], options), null, default);
        var second = TrainingRun.Run(new TrainingRequest(data, null, temp["b"], options), null, default);
        var third = TrainingRun.Run(new TrainingRequest(data, null, temp["c"], options with { Seed = 7 }), null,
            default);

        Assert.Equal(first.Manifest.Metrics.LogLoss, second.Manifest.Metrics.LogLoss, 6);
        Assert.Equal(File.ReadAllBytes(Path.Combine(temp["a"], "model.onnx")),
            File.ReadAllBytes(Path.Combine(temp["b"], "model.onnx")));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(temp["a"], "model.onnx")),
            File.ReadAllBytes(Path.Combine(temp["c"], "model.onnx")));
    }
}
