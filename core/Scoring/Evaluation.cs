using Pipeline.Core.Contract;

namespace Pipeline.Core.Scoring;

/// <summary>The report card of a model on a labelled split, from its probabilities: the figures Custom Vision and Rekognition show.</summary>
public static class Evaluation
{
    public static Metrics Measure(IReadOnlyList<float[]> probabilities, IReadOnlyList<int> truth, IReadOnlyList<string> labels)
    {
        var c = labels.Count;
        var confusion = new int[c, c];
        double logLoss = 0;
        for (var i = 0; i < truth.Count; i++)
        {
            confusion[truth[i], ArgMax(probabilities[i])]++;
            logLoss -= Math.Log(Math.Clamp(probabilities[i][truth[i]], 1e-15, 1));
        }
        var perLabel = new Dictionary<string, LabelMetrics>();
        for (var k = 0; k < c; k++)
        {
            int tp = confusion[k, k], predicted = 0, actual = 0;
            for (var j = 0; j < c; j++) { predicted += confusion[j, k]; actual += confusion[k, j]; }
            perLabel[labels[k]] = new LabelMetrics(Ratio(tp, predicted), Ratio(tp, actual), F1(tp, predicted, actual), actual);
        }
        var correct = Enumerable.Range(0, c).Sum(k => confusion[k, k]);
        return new Metrics
        {
            Accuracy = Ratio(correct, truth.Count),
            MacroF1 = perLabel.Values.Average(m => m.F1),
            LogLoss = truth.Count == 0 ? 0 : logLoss / truth.Count,
            PerLabel = perLabel,
            ConfusionMatrix = Enumerable.Range(0, c).Select(r => (IReadOnlyList<int>)Enumerable.Range(0, c).Select(j => confusion[r, j]).ToList()).ToList(),
            TestImages = truth.Count,
        };
    }

    /// <summary>Per label, the probability threshold with the best one-versus-rest F1 (Rekognition's rule), 0.5 where a label has no examples.</summary>
    public static Dictionary<string, double> Thresholds(IReadOnlyList<float[]> probabilities, IReadOnlyList<int> truth, IReadOnlyList<string> labels)
    {
        var thresholds = new Dictionary<string, double>();
        for (var k = 0; k < labels.Count; k++)
        {
            var scored = probabilities.Select((p, i) => (p: (double)p[k], positive: truth[i] == k)).OrderByDescending(x => x.p).ToList();
            var positives = scored.Count(x => x.positive);
            double best = 0.5, bestF1 = -1;
            var tp = 0;
            for (var i = 0; i < scored.Count && positives > 0; i++)
            {
                if (scored[i].positive) tp++;
                if (i + 1 < scored.Count && scored[i + 1].p == scored[i].p) continue;
                var f1 = F1(tp, i + 1, positives);
                if (f1 > bestF1) (bestF1, best) = (f1, scored[i].p);
            }
            thresholds[labels[k]] = Math.Round(best, 6);
        }
        return thresholds;
    }

    public static int ArgMax(float[] row)
    {
        var best = 0;
        for (var j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }

    private static double Ratio(int a, int b) => b == 0 ? 0 : (double)a / b;

    private static double F1(int tp, int predicted, int actual) => predicted + actual == 0 ? 0 : 2.0 * tp / (predicted + actual);
}
