using Pipeline.Core.Contract;
using Pipeline.Trainer.Training;
using Xunit;

namespace Pipeline.Trainer.Tests;

public class ImageSetTests
{
    /// <summary>
    /// Without a given split, the test split is chosen among the files and decoded only at evaluation, outside the
    /// time to a model: files gone by then are refused, which shows they were never read before.
    /// </summary>
    [Fact]
    public void A_carved_test_split_is_decoded_only_when_the_model_is_evaluated()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 10, seed: 3);
        var options = TrainingOptions.Fast with { Seed = 7 };

        var set = ImageSet.Load(data, null, options);
        var labels = SyntheticImages.Labels.Length;
        Assert.Equal(2 * labels, set.TestFiles); // 20 % of 10 a label
        Assert.Equal(8 * labels, set.Train.Count + set.Validation.Count);
        Assert.Empty(set.Skipped);

        foreach (var file in Directory.GetFiles(data, "*.jpg", SearchOption.AllDirectories)) File.Delete(file);
        Assert.Empty(set.Test);
        Assert.Equal(2 * labels, set.Skipped.Count(s => s.Reason.StartsWith("The file cannot be read")));

        // The same seed chooses the same test files.
        var again = ImageSet.Load(SyntheticImages.WriteDataset(temp["again"], 10, seed: 3), null, options);
        Assert.Equal(set.Skipped.Select(s => Path.GetFileName(s.Path)).Order(),
            again.Test.Select(t => Path.GetFileName(t.Path)).Order());
    }

    /// <summary>
    /// The run measures int8's ranges on a sample of the training images while the rest decode: the sample is seeded,
    /// decoded before the others, drawn from the training split, and changes neither the splits nor the pixels.
    /// </summary>
    [Fact]
    public void Training_images_decoded_first_are_a_seeded_sample_that_leaves_the_splits_as_they_were()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 10, seed: 3);
        var options = TrainingOptions.Fast with { Seed = 7 };
        var given = new List<IReadOnlyList<LabelledImage>>();

        var plain = ImageSet.Load(data, null, options);
        var sampled = ImageSet.Load(new FolderImageSource(data, null), options, first: new DecodedFirst(4, given.Add));
        var again = ImageSet.Load(new FolderImageSource(data, null), options, first: new DecodedFirst(4, given.Add));

        Assert.Equal(Paths(plain.Train), Paths(sampled.Train));
        Assert.Equal(Paths(plain.Validation), Paths(sampled.Validation));
        Assert.Equal(Paths(plain.Test), Paths(sampled.Test));
        Assert.Equal(2, given.Count); // once a load
        Assert.Equal(4, given[0].Count);
        Assert.Equal(Paths(given[0]), Paths(given[1]));
        var training = sampled.Train.Concat(sampled.Validation).ToDictionary(t => t.Path);
        foreach (var image in given[0]) Assert.Equal(training[image.Path].Pixels, image.Pixels);
        // Another seed draws another sample.
        ImageSet.Load(new FolderImageSource(data, null), options with { Seed = 8 },
            first: new DecodedFirst(4, given.Add));
        Assert.NotEqual(Paths(given[0]), Paths(given[2]));
    }

    /// <summary>
    /// A sample none of which decodes is not given; the run then measures the ranges on other training images, and
    /// still trains an int8 model.
    /// </summary>
    [Fact]
    public void A_sample_that_cannot_be_decoded_leaves_the_run_to_calibrate_on_other_training_images()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 6, seed: 5, labels: ["circles", "squares"]);
        foreach (var label in new[] { "circles", "squares" })
            for (var i = 0; i < 40; i++)
                File.WriteAllText(Path.Combine(data, label, $"broken-{i:00}.jpg"), $"not an image ({label} {i})");
        var count = TrainingRun.CalibrationImages;

        // The first seed whose sample is all broken files: the sample is given only where one of them decodes.
        var seed = Enumerable.Range(1, 200).First(s =>
        {
            var given = 0;
            var set = ImageSet.Load(new FolderImageSource(data, null), TrainingOptions.Fast with { Seed = s },
                first: new DecodedFirst(count, images =>
                {
                    Assert.All(images, i => Assert.DoesNotContain("broken", i.Path));
                    given++;
                }));
            Assert.InRange(given, 0, 1);
            return given == 0;
        });

        var outcome = TrainingRun.Run(new TrainingRequest(data, null, temp["model"],
            TrainingOptions.Fast with { Seed = seed }), null, default);
        Assert.Equal("int8", outcome.Manifest.Recipe!.Precision);
        Assert.True(File.Exists(Path.Combine(outcome.ModelFolder, ModelFiles.Model)));
    }

    private static List<string> Paths(IEnumerable<LabelledImage> images) => images.Select(i => i.Path).ToList();
}
