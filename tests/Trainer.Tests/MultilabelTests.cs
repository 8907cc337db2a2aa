using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Scoring;
using Pipeline.Tests;
using Pipeline.Trainer.Report;
using Pipeline.Trainer.Training;
using Xunit;

namespace Pipeline.Trainer.Tests;

/// <summary>
/// Multilabel datasets (the same image under several label folders, labels.csv) and the Negative label.
/// </summary>
public class MultilabelTests
{
    private static readonly string[] Shapes = GeneratedImages.Shapes;

    /// <summary>Each scene's bytes under every shape's folder it holds; dataset.json says multilabel.</summary>
    private static string WriteScenes(string folder, int each, int seed, bool multilabel = true)
    {
        foreach (var (scene, i) in GeneratedImages.Scenes(each, seed).Select((s, i) => (s, i)))
            foreach (var shape in scene.Shapes)
            {
                var dir = Directory.CreateDirectory(Path.Combine(folder, Shapes[shape])).FullName;
                File.WriteAllBytes(Path.Combine(dir, $"scene-{i:000}.jpg"), scene.Content);
            }
        if (multilabel) WriteSettings(folder, Classification.Multilabel);
        return folder;
    }

    private static void WriteSettings(string folder, string classification) =>
        File.WriteAllText(Path.Combine(folder, DatasetSettings.FileName),
            $$"""{ "classification": "{{classification}}" }""");

    [Fact]
    public void The_same_bytes_under_two_label_folders_are_one_image_with_both_labels()
    {
        using var temp = new TempFolder();
        var data = WriteScenes(temp["data"], each: 5, seed: 1);
        var set = ImageSet.Load(data, null, TrainingOptions.Fast);

        var all = set.Train.Concat(set.Validation).Concat(set.Test).ToList();
        // Three kinds of one shape and three of two, five each: 30 images, though 45 files.
        Assert.Equal(30, all.Count);
        Assert.Equal(15, all.Count(i => i.Targets.Count == 2));
        Assert.Equal(Shapes.Order(StringComparer.Ordinal), set.Labels);
        Assert.True(set.Multilabel);
        Assert.Empty(set.Skipped);
        // A label's count is its images, pairs included: each shape is in 5 alone and 10 pairs.
        Assert.All(set.Counts().Values, c => Assert.Equal(15, c.Values.Sum()));
    }

    [Fact]
    public void A_multilabel_set_of_shapes_reaches_a_high_mean_average_precision_and_finds_both_shapes_in_one_image()
    {
        using var temp = new TempFolder();
        var data = WriteScenes(temp["data"], each: 10, seed: 2);
        var outcome = TrainingRun.Run(new TrainingRequest(data, null, temp["model"], TrainingOptions.Fast), null,
            default);

        var manifest = outcome.Manifest;
        Assert.Equal(Classification.Multilabel, manifest.Classification);
        Assert.Null(manifest.NegativeLabel);
        Assert.True(manifest.Metrics.MeanAveragePrecision >= 0.9,
            $"mAP {manifest.Metrics.MeanAveragePrecision}, exact match {manifest.Metrics.Accuracy}");
        Assert.NotNull(manifest.Metrics.MicroF1);
        Assert.Equal(Shapes.Length, manifest.Metrics.Outcomes!.Count);
        Assert.All(manifest.Metrics.Outcomes.Values, o =>
            Assert.Equal(manifest.Metrics.TestImages,
                o.TruePositives + o.FalsePositives + o.FalseNegatives + o.TrueNegatives));
        Assert.StartsWith("not tried", manifest.Recipe!.FineTune);
        Assert.Contains("sigmoid per label", manifest.Recipe.Head);
        // No image of a multilabel set is mistaken for one other label: no mistakes.json.
        Assert.False(File.Exists(Path.Combine(temp["model"], ModelFiles.Mistakes)));

        // New scenes of two shapes, scored as the HTTP endpoint scores: both labels pass their thresholds.
        using var scorer = Scorer.Load(temp["model"]);
        Assert.True(scorer.Multilabel);
        var random = new Random(99);
        var pairs = Enumerable.Range(0, Shapes.Length).SelectMany(a => Enumerable.Range(a + 1, Shapes.Length - a - 1)
            .Select(b => new[] { a, b })).SelectMany(p => Enumerable.Range(0, 4).Select(_ => p)).ToList();
        var images = pairs.Select(p => GeneratedImages.Scene(p, random)).ToList();
        var scored = scorer.Score(images);
        images.ForEach(i => i.Dispose());
        for (var i = 0; i < pairs.Count; i++)
        {
            var found = scored[i].Where(p => p.Probability >= manifest.Thresholds[p.Label]).Select(p => p.Label)
                .Order(StringComparer.Ordinal).ToList();
            Assert.Equal(pairs[i].Select(s => Shapes[s]).Order(StringComparer.Ordinal), found);
            // Independent sigmoids: two labels can both be near certain, as a softmax's cannot.
            Assert.All(scored[i].Where(p => found.Contains(p.Label)), p => Assert.True(p.Probability > 0.5));
        }

        var report = File.ReadAllText(ReportWriter.Write(outcome));
        Assert.Contains("id=\"label-outcomes\"", report);
        Assert.Contains("mean average precision", report);
    }

    [Fact]
    public void A_multiclass_set_with_an_image_under_two_labels_trains_without_it_and_names_the_conflict()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 8, seed: 3, labels: ["circles", "squares"]);
        var shared = Path.Combine(data, "circles", "circles-000.jpg");
        var copy = Path.Combine(data, "squares", "also-a-square.jpg");
        File.Copy(shared, copy);

        var run = TrainerCommandLine.Run("train", "--data", data, "--out", temp["model"], "--fast");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var manifest = ModelFiles.ReadManifest(File.ReadAllText(Path.Combine(temp["model"], "model.json")));
        Assert.Equal(Classification.Multiclass, manifest.Classification);
        foreach (var file in new[] { shared, copy })
        {
            var skipped = Assert.Single(manifest.Skipped, s => s.Path == file);
            Assert.Contains("Conflict", skipped.Reason);
            Assert.Contains("'circles' and 'squares'", skipped.Reason);
            Assert.Contains(run.Lines, l => l.StartsWith("skipped") && l.Contains(Path.GetFileName(file)) &&
                l.Contains("Conflict"));
        }
        // 8 circles and 9 square files, less the two copies of the shared image.
        Assert.Equal(15, manifest.ImageCounts.Values.Sum(c => c.Values.Sum()));
    }

    public static TheoryData<string> Kinds => [Classification.Multiclass, Classification.Multilabel];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Negative_images_come_back_with_no_label_while_the_labels_still_score(string kind)
    {
        using var temp = new TempFolder();
        // Circles and squares, and stripes, which are neither, as Negative.
        var data = SyntheticImages.WriteDataset(temp["data"], 10, seed: 4,
            labels: ["circles", "squares", Classification.Negative]);
        WriteSettings(data, kind);
        var outcome = TrainingRun.Run(new TrainingRequest(data, null, temp["model"], TrainingOptions.Fast), null,
            default);
        var multilabel = kind == Classification.Multilabel;
        Assert.Equal(multilabel ? ["circles", "squares"] : ["Negative", "circles", "squares"], outcome.Manifest.Labels);
        Assert.Equal(multilabel ? null : Classification.Negative, outcome.Manifest.NegativeLabel);

        using var scorer = Scorer.Load(temp["model"]);
        var random = new Random(77);
        var images = Enumerable.Range(0, 8).Select(i => SyntheticImages.Draw(new[] { 2, 0, 1 }[i % 3], random))
            .ToList();
        var scored = scorer.Score(images);
        images.ForEach(i => i.Dispose());
        var thresholds = outcome.Manifest.Thresholds;
        for (var i = 0; i < images.Count; i++)
        {
            // Labels that pass their thresholds, the Negative class never one of them: what scoring calls "labels".
            var labels = scored[i].Where(p => p.TagType is null && p.Probability >= thresholds[p.Label])
                .Select(p => p.Label).ToList();
            var expected = new[] { Classification.Negative, "circles", "squares" }[i % 3];
            if (expected == Classification.Negative)
            {
                Assert.Empty(labels);
                if (!multilabel) Assert.Equal((expected, "Negative"), (scored[i][0].Label, scored[i][0].TagType));
            }
            else Assert.True(labels.SequenceEqual([expected]), string.Join(", ",
                scored[i].Select(p => $"{p.Label} {p.Probability:0.000} (threshold {thresholds[p.Label]:0.000})")));
        }
    }

    [Fact]
    public void Labels_csv_beside_the_images_gives_their_labels_and_one_label_with_Negative_is_a_dataset()
    {
        using var temp = new TempFolder();
        var data = Directory.CreateDirectory(temp["data"]).FullName;
        var random = new Random(5);
        var rows = new List<string> { "file,labels" };
        for (var i = 0; i < 6; i++)
        {
            File.WriteAllBytes(Path.Combine(data, $"both-{i}.jpg"), GeneratedImages.SceneJpeg([0, 1], random));
            File.WriteAllBytes(Path.Combine(data, $"none-{i}.jpg"), GeneratedImages.SceneJpeg([], random));
            rows.Add($"both-{i}.jpg,circle;square");
            rows.Add($"none-{i}.jpg,");
        }
        rows.Add("missing.jpg,circle");
        File.WriteAllLines(Path.Combine(data, FolderImageSource.LabelsFile), rows);
        WriteSettings(data, Classification.Multilabel);

        var set = ImageSet.Load(data, null, TrainingOptions.Fast);
        Assert.Equal(["circle", "square"], set.Labels);
        var all = set.Train.Concat(set.Validation).Concat(set.Test).ToList();
        Assert.Equal(6, all.Count(i => i.Targets.SequenceEqual([0, 1])));
        Assert.Equal(6, all.Count(i => i.Targets.Count == 0));
        Assert.Contains(set.Skipped, s => s.Path.EndsWith("missing.jpg") && s.Reason.Contains("labels.csv line"));
        Assert.Equal(6, set.Counts()[Classification.Negative].Values.Sum());

        // Multiclass: one label and Negative is a dataset ("defect or not").
        using var other = new TempFolder();
        var defects = SyntheticImages.WriteDataset(other["data"], 5, labels: ["defect", Classification.Negative]);
        var twoClasses = ImageSet.Load(defects, null, TrainingOptions.Fast);
        Assert.Equal([Classification.Negative, "defect"], twoClasses.Labels);
        Assert.Equal(Classification.Negative, twoClasses.NegativeLabel);
    }
}
