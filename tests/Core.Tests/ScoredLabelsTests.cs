using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using Xunit;

namespace Pipeline.Core.Tests;

public class ScoredLabelsTests
{
    private static ModelManifest Manifest(string[] labels, Dictionary<string, double> thresholds) => new()
    {
        Version = "v", Dataset = "d", Labels = labels, Preprocessing = new PreprocessingSpec(224, "crop"),
        Options = TrainingOptions.Fast, ImageCounts = new Dictionary<string, IReadOnlyDictionary<string, int>>(),
        Metrics = new Metrics(), Thresholds = thresholds, Timings = new Timings(0, 0, 0, 0, 0, 0, 0, 0),
        Device = "cpu", PackageVersions = new Dictionary<string, string>(),
    };

    [Fact]
    public void Each_label_is_called_at_its_own_threshold_and_labels_lists_those_that_reach_it()
    {
        var manifest = Manifest(["ant", "bee", "wasp"], new() { ["ant"] = 0.6, ["bee"] = 0.25, ["wasp"] = 0.1 });
        var (predictions, labels) = ScoredLabels.Shape([0.5f, 0.3f, 0.2f], manifest, new ScoreQuery());

        Assert.Equal(["ant", "bee", "wasp"], predictions.Select(p => p.Label));
        Assert.Equal([0.6, 0.25, 0.1], predictions.Select(p => p.Threshold));
        Assert.Equal([false, true, true], predictions.Select(p => p.AboveThreshold));
        // The most probable label is not given: it stays under its own threshold.
        Assert.Equal(["bee", "wasp"], labels);
    }

    [Fact]
    public void A_threshold_in_the_request_replaces_every_label_s_own_and_top_cuts_only_the_predictions()
    {
        var manifest = Manifest(["ant", "bee", "wasp"], new() { ["ant"] = 0.9, ["bee"] = 0.9, ["wasp"] = 0.9 });
        var (predictions, labels) = ScoredLabels.Shape([0.2f, 0.7f, 0.1f], manifest,
            new ScoreQuery(Top: 1, Threshold: 0.15));

        Assert.Equal("bee", Assert.Single(predictions).Label);
        Assert.Equal(0.15, predictions[0].Threshold);
        Assert.Equal(["bee", "ant"], labels);

        var (all, _) = ScoredLabels.Shape([0.2f, 0.7f, 0.1f], manifest, new ScoreQuery(Top: 1, All: true));
        Assert.Equal(3, all.Count);
    }

    [Fact]
    public void Nothing_above_its_threshold_is_an_empty_list_and_a_label_without_one_is_called_at_one_half()
    {
        var manifest = Manifest(["cat", "dog"], []);
        var (predictions, labels) = ScoredLabels.Shape([0.45f, 0.4f], manifest, new ScoreQuery());

        Assert.All(predictions, p => Assert.Equal(ScoredLabels.DefaultThreshold, p.Threshold));
        Assert.Empty(labels);
    }

    [Fact]
    public void A_Negative_class_is_scored_but_never_listed_and_sigmoid_outputs_are_taken_as_they_come()
    {
        var manifest = Manifest(["defect", ScoredLabels.NegativeLabel, "scratch"],
            new() { ["defect"] = 0.5, [ScoredLabels.NegativeLabel] = 0.5, ["scratch"] = 0.5 });
        // Independent sigmoid outputs: they need not add up to one, and are not made to.
        var (predictions, labels) = ScoredLabels.Shape([0.9f, 0.95f, 0.8f], manifest, new ScoreQuery());

        Assert.Equal([0.95f, 0.9f, 0.8f], predictions.Select(p => (float)p.Probability));
        Assert.True(predictions[0].AboveThreshold);
        Assert.Equal(["defect", "scratch"], labels);
    }

    [Theory]
    [InlineData("production", true)]
    [InlineData("v2.1_canary-B", true)]
    [InlineData("", false)]
    [InlineData("-prod", false)]
    [InlineData("prod/uction", false)]
    [InlineData("prod uction", false)]
    public void Published_names_are_letters_digits_and_dashes_dots_underscores(string name, bool valid) =>
        Assert.Equal(valid, PublishedNameRules.Check(name) is null);
}
