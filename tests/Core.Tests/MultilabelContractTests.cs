using System.Text;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Scoring;
using Pipeline.Core.Storage;
using Xunit;

namespace Pipeline.Core.Tests;

public class MultilabelContractTests
{
    [Fact]
    public void Measures_a_multilabel_model_at_its_thresholds()
    {
        string[] labels = ["cat", "dog"];
        // Image 0 has both, 1 only cat, 2 neither, 3 only dog.
        float[][] p = [[0.9f, 0.8f], [0.7f, 0.6f], [0.2f, 0.1f], [0.4f, 0.9f]];
        IReadOnlyCollection<int>[] truth = [[0, 1], [0], [], [1]];
        var thresholds = new Dictionary<string, double> { ["cat"] = 0.5, ["dog"] = 0.7 };

        var m = Evaluation.MeasureMultilabel(p, truth, labels, thresholds);

        // Cat: called on 0 and 1, both right. Dog: called on 0 and 3 (0.6 is under 0.7), both right.
        Assert.Equal(new LabelOutcomes(2, 0, 0, 2), m.Outcomes!["cat"]);
        Assert.Equal(new LabelOutcomes(2, 0, 0, 2), m.Outcomes["dog"]);
        Assert.Equal(1, m.Accuracy);
        Assert.Equal(1, m.MicroF1);
        Assert.Equal(1, m.MeanAveragePrecision);
        Assert.Equal(2, m.PerLabel["dog"].Support);

        var missed = Evaluation.MeasureMultilabel(p, truth, labels, new Dictionary<string, double>
        {
            ["cat"] = 0.8, ["dog"] = 0.7,
        });
        // Cat at 0.8 misses image 1: exact match 3 of 4, cat recall 1/2, micro F1 = 2 * 3 / (3 + 4).
        Assert.Equal(new LabelOutcomes(1, 0, 1, 2), missed.Outcomes!["cat"]);
        Assert.Equal(0.75, missed.Accuracy);
        Assert.Equal(0.5, missed.PerLabel["cat"].Recall);
        Assert.Equal(6.0 / 7, missed.MicroF1!.Value, 6);
        // The ranking is unchanged, so average precision is too.
        Assert.Equal(1, missed.MeanAveragePrecision);
    }

    [Fact]
    public void Average_precision_is_precision_averaged_at_each_positive()
    {
        // Ranked: +, -, +, -: precision 1 at the first positive, 2/3 at the second.
        Assert.Equal((1 + 2.0 / 3) / 2,
            Evaluation.AveragePrecision([0.9, 0.8, 0.7, 0.1], [true, false, true, false]), 6);
        Assert.Equal(0, Evaluation.AveragePrecision([0.9, 0.1], [false, false]));
    }

    [Theory]
    [InlineData("{}", Classification.Multiclass)]
    [InlineData("""{ "classification": "multiclass" }""", Classification.Multiclass)]
    [InlineData("""{ "classification": "multilabel", "testFraction": 0.3 }""", Classification.Multilabel)]
    public void Dataset_json_says_which_kind_a_dataset_is(string json, string kind)
    {
        var settings = DatasetSettings.Parse(Encoding.UTF8.GetBytes(json), out var reason);
        Assert.Null(reason);
        Assert.Equal(kind, settings!.Kind);
    }

    [Fact]
    public void Dataset_json_with_another_kind_is_refused_with_the_reason()
    {
        Assert.Null(DatasetSettings.Parse("""{ "classification": "multi-label" }"""u8.ToArray(), out var reason));
        Assert.Equal("classification must be \"multiclass\" or \"multilabel\", not \"multi-label\".", reason);
    }

    [Fact]
    public void The_same_image_under_two_labels_is_a_conflict_in_a_multiclass_dataset_only()
    {
        DatasetImage Image(string label, string name) =>
            new(Split.Train, label, $"shapes/{label}/{name}", 10, DateTimeOffset.UnixEpoch);
        DatasetImage[] images =
        [
            Image("circle", "aa.jpg"), Image("square", "aa.jpg"), Image("circle", "bb.jpg"),
            Image("Negative", "cc.jpg"), Image("square", "cc.jpg"),
        ];

        var multiclass = LabelConflicts.Find(images, multilabel: false);
        Assert.Equal(["aa.jpg", "cc.jpg"], multiclass.Select(c => c.Image));
        Assert.Equal(["circle", "square"], multiclass[0].Labels);
        Assert.Contains("'circle' and 'square'", multiclass[0].Reason);

        // Multilabel: aa.jpg is one image with two labels; Negative beside a label is still a conflict.
        var multilabel = Assert.Single(LabelConflicts.Find(images, multilabel: true));
        Assert.Equal("cc.jpg", multilabel.Image);
        Assert.Contains("Negative means no label", multilabel.Reason);
    }

    [Fact]
    public void One_label_and_Negative_can_be_trained()
    {
        var images = Enumerable.Range(0, 10).Select(i => new DatasetImage(Split.Train, i < 5 ? "defect" : "Negative",
            $"parts/x/{i}.jpg", 10, DateTimeOffset.UnixEpoch)).ToList();
        Assert.Null(Trainability.Check("parts", images));
        Assert.Contains("'Negative' (4)", Trainability.Check("parts", images.Skip(1).Take(8).ToList()));
    }
}
