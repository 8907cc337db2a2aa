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
}
