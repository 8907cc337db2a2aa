using Pipeline.Core.Contract;
using Pipeline.Core.Scoring;
using Xunit;

namespace Pipeline.Core.Tests;

public class EvaluationTests
{
    [Fact]
    public void Measures_accuracy_per_label_figures_log_loss_and_confusion()
    {
        string[] labels = ["ant", "bee"];
        float[][] p = [[0.9f, 0.1f], [0.6f, 0.4f], [0.3f, 0.7f], [0.2f, 0.8f], [0.7f, 0.3f]];
        int[] truth = [0, 0, 0, 1, 1];
        var m = Evaluation.Measure(p, truth, labels);
        Assert.Equal(0.6, m.Accuracy, 6);
        Assert.Equal([2, 1], m.ConfusionMatrix[0]);
        Assert.Equal([1, 1], m.ConfusionMatrix[1]);
        Assert.Equal(2.0 / 3, m.PerLabel["ant"].Precision, 6);
        Assert.Equal(2.0 / 3, m.PerLabel["ant"].Recall, 6);
        Assert.Equal(0.5, m.PerLabel["bee"].F1, 6);
        Assert.Equal((2.0 / 3 + 0.5) / 2, m.MacroF1, 6);
        var logLoss = -(Math.Log(0.9) + Math.Log(0.6) + Math.Log(0.3) + Math.Log(0.8) + Math.Log(0.3)) / 5;
        Assert.Equal(logLoss, m.LogLoss, 5);
    }

    [Fact]
    public void Thresholds_sit_where_f1_is_best()
    {
        string[] labels = ["no", "yes"];
        float[][] p = [[0.1f, 0.9f], [0.4f, 0.6f], [0.65f, 0.35f], [0.7f, 0.3f], [0.8f, 0.2f]];
        int[] truth = [1, 1, 1, 0, 0];
        var t = Evaluation.Thresholds(p, truth, labels);
        // Predicting "yes" from 0.35 up catches all three yes and no no: F1 = 1. The cut sits halfway to the next
        // lower probability, 0.3, a margin for images never seen.
        Assert.Equal(0.325, t["yes"], 5);
    }

    [Fact]
    public void Mistakes_are_kept_per_true_label_most_confident_first_and_capped()
    {
        string[] labels = ["ant", "bee", "wasp"];
        float[][] p = [[0.2f, 0.7f, 0.1f], [0.1f, 0.3f, 0.6f], [0.1f, 0.8f, 0.1f], [0.9f, 0.05f, 0.05f],
            [0.5f, 0.4f, 0.1f], [0.2f, 0.2f, 0.6f]];
        int[] truth = [0, 0, 0, 0, 1, 2];
        string[] images = ["a1", "a2", "a3", "a4", "b1", "w1"];

        var mistakes = Evaluation.Mistakes(p, truth, labels, images, perLabel: 2);

        Assert.Equal(labels, mistakes.Keys);
        Assert.Equal(["a3", "a1"], mistakes["ant"].Select(m => m.Image)); // a2 (0.6 wasp) is past the cap
        Assert.Equal(new TestMistake("a3", "ant", "bee", 0.8, 0.1), mistakes["ant"][0]);
        Assert.Equal(new TestMistake("b1", "bee", "ant", 0.5, 0.4), Assert.Single(mistakes["bee"]));
        Assert.Empty(mistakes["wasp"]);
    }
}
