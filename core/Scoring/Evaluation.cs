using Pipeline.Core.Contract;

namespace Pipeline.Core.Scoring;

/// <summary>The report card of a model on a labelled split, from its probabilities: the figures Custom Vision and
/// Rekognition show.</summary>
public static class Evaluation
{
    public static Metrics Measure(IReadOnlyList<float[]> probabilities, IReadOnlyList<int> truth,
        IReadOnlyList<string> labels)
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
            perLabel[labels[k]] = new LabelMetrics(Ratio(tp, predicted), Ratio(tp, actual), F1(tp, predicted, actual),
                actual);
        }
        var correct = Enumerable.Range(0, c).Sum(k => confusion[k, k]);
        return new Metrics
        {
            Accuracy = Ratio(correct, truth.Count),
            MacroF1 = perLabel.Values.Average(m => m.F1),
            LogLoss = truth.Count == 0 ? 0 : logLoss / truth.Count,
            PerLabel = perLabel,
            ConfusionMatrix = Enumerable.Range(0,
                c).Select(r => (IReadOnlyList<int>)Enumerable.Range(0,
                c).Select(j => confusion[r, j]).ToList()).ToList(),
            TestImages = truth.Count,
        };
    }

    /// <summary>Per label, the probability threshold with the best one-versus-rest F1 (Rekognition's rule), 0.5 where a
    /// label has no examples.</summary>
    public static Dictionary<string, double> Thresholds(IReadOnlyList<float[]> probabilities, IReadOnlyList<int> truth,
        IReadOnlyList<string> labels) =>
        Thresholds(probabilities, truth.Select(t => (IReadOnlyCollection<int>)[t]).ToList(), labels);

    /// <summary>The same for images with any number of labels (<paramref name="truth"/>: each image's label
    /// indices).</summary>
    public static Dictionary<string, double> Thresholds(IReadOnlyList<float[]> probabilities,
        IReadOnlyList<IReadOnlyCollection<int>> truth, IReadOnlyList<string> labels)
    {
        var thresholds = new Dictionary<string, double>();
        for (var k = 0; k < labels.Count; k++)
        {
            var scored = probabilities.Select((p, i) => (p: (double)p[k], positive: truth[i].Contains(k)))
                .OrderByDescending(x => x.p).ToList();
            var positives = scored.Count(x => x.positive);
            double best = 0.5, bestF1 = -1;
            var tp = 0;
            for (var i = 0; i < scored.Count && positives > 0; i++)
            {
                if (scored[i].positive) tp++;
                if (i + 1 < scored.Count && scored[i + 1].p == scored[i].p) continue;
                var f1 = F1(tp, i + 1, positives);
                // Halfway to the next lower probability: the cut separates the same images, with a margin on both
                // sides for images never seen (at the last called image itself, new ones a hair lower are missed).
                var below = i + 1 < scored.Count ? scored[i + 1].p : 0;
                if (f1 > bestF1) (bestF1, best) = (f1, (scored[i].p + below) / 2);
            }
            thresholds[labels[k]] = Math.Round(best, 6);
        }
        return thresholds;
    }

    /// <summary>
    /// A multilabel model's report card: label k is predicted where its probability reaches its threshold. Per label
    /// precision, recall, F1, average precision, support and the four outcomes; mean average precision, micro and
    /// macro F1, exact-match accuracy (all of an image's labels right, none extra) and mean binary cross-entropy.
    /// </summary>
    public static Metrics MeasureMultilabel(IReadOnlyList<float[]> probabilities,
        IReadOnlyList<IReadOnlyCollection<int>> truth, IReadOnlyList<string> labels,
        IReadOnlyDictionary<string, double> thresholds)
    {
        var n = truth.Count;
        var perLabel = new Dictionary<string, LabelMetrics>();
        var outcomes = new Dictionary<string, LabelOutcomes>();
        int allTp = 0, allPredicted = 0, allActual = 0;
        double logLoss = 0;
        var exact = Enumerable.Repeat(true, n).ToArray();
        for (var k = 0; k < labels.Count; k++)
        {
            var threshold = thresholds.GetValueOrDefault(labels[k], 0.5);
            int tp = 0, fp = 0, fn = 0, tn = 0;
            for (var i = 0; i < n; i++)
            {
                var p = Math.Clamp((double)probabilities[i][k], 1e-15, 1 - 1e-15);
                var positive = truth[i].Contains(k);
                var predicted = p >= threshold;
                logLoss -= positive ? Math.Log(p) : Math.Log(1 - p);
                if (positive != predicted) exact[i] = false;
                if (positive && predicted) tp++;
                else if (predicted) fp++;
                else if (positive) fn++;
                else tn++;
            }
            var ap = AveragePrecision(probabilities.Select(p => (double)p[k]).ToList(),
                truth.Select(t => t.Contains(k)).ToList());
            perLabel[labels[k]] = new LabelMetrics(Ratio(tp, tp + fp), Ratio(tp, tp + fn), F1(tp, tp + fp, tp + fn),
                tp + fn, ap);
            outcomes[labels[k]] = new LabelOutcomes(tp, fp, fn, tn);
            (allTp, allPredicted, allActual) = (allTp + tp, allPredicted + tp + fp, allActual + tp + fn);
        }
        return new Metrics
        {
            Accuracy = Ratio(exact.Count(e => e), n),
            MacroF1 = perLabel.Values.Average(m => m.F1),
            MicroF1 = F1(allTp, allPredicted, allActual),
            MeanAveragePrecision = perLabel.Values.Average(m => m.AveragePrecision ?? 0),
            LogLoss = n == 0 ? 0 : logLoss / (n * labels.Count),
            PerLabel = perLabel,
            Outcomes = outcomes,
            TestImages = n,
        };
    }

    /// <summary>
    /// Per true label, the images given another (most probable) label, the most confident first (fastai's top losses,
    /// by confidence), at most <paramref name="perLabel"/> each; every label listed, empty where it made no mistake.
    /// <paramref name="images"/> names each image as <see cref="TestMistake.Image"/> does.
    /// </summary>
    public static Dictionary<string, IReadOnlyList<TestMistake>> Mistakes(IReadOnlyList<float[]> probabilities,
        IReadOnlyList<int> truth, IReadOnlyList<string> labels, IReadOnlyList<string> images,
        int perLabel = TestMistakes.PerLabel)
    {
        var wrong = Enumerable.Range(0, truth.Count)
            .Select(i => (i, predicted: ArgMax(probabilities[i])))
            .Where(x => x.predicted != truth[x.i])
            .Select(x => new TestMistake(images[x.i], labels[truth[x.i]], labels[x.predicted],
                Math.Round(probabilities[x.i][x.predicted], 6), Math.Round(probabilities[x.i][truth[x.i]], 6)))
            .ToLookup(m => m.Label);
        return labels.ToDictionary(l => l, l => (IReadOnlyList<TestMistake>)wrong[l]
            .OrderByDescending(m => m.Confidence).ThenBy(m => m.Image, StringComparer.Ordinal)
            .Take(perLabel).ToList());
    }

    /// <summary>Average precision (scikit-learn's: precision at each positive, ties taken together); 0 without
    /// positives.</summary>
    public static double AveragePrecision(IReadOnlyList<double> scores, IReadOnlyList<bool> positive)
    {
        var total = positive.Count(p => p);
        if (total == 0) return 0;
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToList();
        double ap = 0, lastRecall = 0;
        var tp = 0;
        for (var r = 0; r < order.Count; r++)
        {
            if (positive[order[r]]) tp++;
            if (r + 1 < order.Count && scores[order[r + 1]] == scores[order[r]]) continue;
            var recall = (double)tp / total;
            ap += (recall - lastRecall) * tp / (r + 1);
            lastRecall = recall;
        }
        return ap;
    }

    public static int ArgMax(float[] row)
    {
        var best = 0;
        for (var j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }

    private static double Ratio(int a, int b) => b == 0 ? 0 : (double)a / b;

    private static double F1(int tp, int predicted, int actual) => predicted + actual == 0 ? 0
        : 2.0 * tp / (predicted + actual);
}
