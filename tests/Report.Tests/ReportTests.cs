using Pipeline.Core.Contract;
using Pipeline.Tests;
using Pipeline.Trainer.Report;
using Pipeline.Trainer.Training;
using Xunit;
using Xunit.Abstractions;

namespace Pipeline.Report.Tests;

/// <summary>
/// Trains a small generated dataset with the real trainer, writes its report and opens it in headless Chromium:
/// every image decodes, nothing is fetched, the confusion counts add up to the test split, and the page says what a
/// user needs.
/// </summary>
public sealed class ReportTests(ITestOutputHelper output, TrainedModel model) : IClassFixture<TrainedModel>
{
    [SkippableFact]
    public async Task Offline_report_in_Chromium_loads_every_image_and_its_confusion_counts_sum_to_the_test_split()
    {
        var chromium = await Chromium.EnsureAsync(output.WriteLine);
        Skip.If(chromium is null, Chromium.MissingReason);
        var outcome = model.Outcome;
        var rejected = new List<SkippedFile> { new("uploads/shapes/circles/notes.txt",
            "Not an image in a supported format (JPEG, PNG, GIF, BMP or WebP).") };

        var report = ReportWriter.Write(outcome, rejected);

        Assert.Equal(Path.Combine(outcome.ModelFolder, ModelFiles.Report), report);
        var html = await File.ReadAllTextAsync(report);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        var probe = Chromium.ReadProbe(await Chromium.DumpDomAsync(chromium!, Chromium.WithProbe(html, model.Folder)));

        var wrong = outcome.TestPredictions.Count(p => ReportWriter.ArgMax(p.Probabilities) != p.Label);
        Assert.True(wrong > 0, "The dataset holds mislabelled test images, so the model must get some wrong.");
        // Only the images shown keep their pixels: the rest of the test split is not held after evaluation.
        Assert.Equal(Math.Min(wrong, ReportWriter.WrongImages), outcome.TestPredictions.Count(p => p.Pixels != null));
        // Two learning curves, the confusion matrix and one thumbnail per wrong image (at most 24).
        Assert.Equal(3 + Math.Min(wrong, ReportWriter.WrongImages), probe.Images);
        Assert.Equal(probe.Images, probe.Loaded);
        Assert.Empty(probe.Fetched);
        var labels = outcome.Manifest.Labels.Count;
        Assert.Equal(labels * labels, probe.ConfusionCells);
        Assert.Equal(outcome.TestPredictions.Count, probe.ConfusionTotal);
        Assert.Equal(outcome.Manifest.ImageCounts.Values.Sum(c => c["test"]), probe.ConfusionTotal);

        Assert.Contains("notes.txt", probe.Text);                    // refused on upload, passed in by the job
        Assert.Contains("broken.jpg", probe.Text);                   // skipped by the trainer itself
        Assert.Contains("Most confidently wrong", probe.Text);
        foreach (var label in outcome.Manifest.Labels) Assert.Contains(label, probe.Text);
        Assert.Contains(outcome.Manifest.Version, probe.Text);
        Assert.Contains("ScottPlot (this report)\t5.1.59", probe.Text);
    }

    [SkippableFact]
    public async Task Report_screenshot_shows_a_page()
    {
        var chromium = await Chromium.EnsureAsync(output.WriteLine);
        Skip.If(chromium is null, Chromium.MissingReason);
        var report = ReportWriter.Write(model.Outcome);
        var png = Path.Combine(model.Folder, "report.png");

        await Chromium.ScreenshotAsync(chromium!, report, png, 1200, 2600);

        var bytes = await File.ReadAllBytesAsync(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        // A blank page compresses to a few kilobytes; plots and thumbnails do not.
        Assert.True(bytes.Length > 50_000, $"The screenshot is only {bytes.Length} bytes: is the page blank?");
        // docs/report.png is made this way: REPORT_SCREENSHOT=docs/report.png dotnet test tests/Report.Tests
        // (the top of the page: headline, learning curves, confusion matrix)
        if (Environment.GetEnvironmentVariable("REPORT_SCREENSHOT") is { Length: > 0 } keep)
            await Chromium.ScreenshotAsync(chromium!, report, keep, 1100, 1400);
        output.WriteLine($"screenshot: {png}");
    }

    [Fact]
    public void Thumbnail_turns_BGR_planes_into_the_right_colours()
    {
        const int size = 224;
        var pixels = new byte[3 * size * size];
        Array.Fill(pixels, (byte)250, 2 * size * size, size * size); // R plane full, B and G empty: red
        using var image =
            SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(Thumbnail.Jpeg(pixels));
        var centre = image[size / 2, size / 2];
        Assert.True(centre.R > 200 && centre.G < 40 && centre.B < 40, $"expected red, got {centre}");
    }

    [Fact]
    public void Most_confidently_wrong_orders_by_the_wrong_label_s_probability_and_leaves_out_right_answers()
    {
        var pixels = new byte[3 * 224 * 224];
        List<TestPrediction> predictions =
        [
            new("right.jpg", 0, [0.9f, 0.1f], pixels),
            new("unsure.jpg", 0, [0.4f, 0.6f], pixels),
            new("sure.jpg", 1, [0.95f, 0.05f], pixels),
        ];
        var wrong = ReportWriter.MostConfidentlyWrong(predictions, 10);
        Assert.Equal(new[] { "sure.jpg", "unsure.jpg" }, wrong.Select(w => w.Image.Path));
        Assert.Equal(0.95f, wrong[0].Probability);
    }
}

/// <summary>One fast training run of generated shapes, shared by the report tests: 3 labels, a given train/test split,
/// two mislabelled test images and a broken file.</summary>
public sealed class TrainedModel : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("report-test-").FullName;
    public TrainingOutcome Outcome { get; }

    public TrainedModel()
    {
        var random = new Random(7);
        for (var k = 0; k < 3; k++)
        {
            var label = GeneratedImages.Labels[k];
            for (var i = 0; i < 12; i++) Write("train", label, $"{label}-{i:00}.jpg", GeneratedImages.Jpeg(k, random));
            for (var i = 0; i < 5; i++) Write("test", label, $"{label}-test-{i:00}.jpg",
                GeneratedImages.Jpeg(k, random));
        }
        // Filed under the wrong label: the model will be confidently wrong about these, as it is about mislabelled
        // photos.
        Write("test", "squares", "circle-filed-as-square.jpg", GeneratedImages.Jpeg(0, random));
        Write("test", "circles", "stripes-filed-as-circle.jpg", GeneratedImages.Jpeg(2, random));
        Write("train", "circles", "broken.jpg", GeneratedImages.Jpeg(0, random)[..300]);

        var options = TrainingOptions.Fast with { HeadEpochs = 12, Patience = 12 };
        Outcome = TrainingRun.Run(new TrainingRequest(Path.Combine(Folder, "data"), null, Path.Combine(Folder, "out"),
            options, "shapes", "20261128-120000-abcdef"),
            null, CancellationToken.None);
    }

    private void Write(string split, string label, string file, byte[] content)
    {
        var path = Path.Combine(Folder, "data", split, label, file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
