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
}
