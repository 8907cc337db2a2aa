using TorchSharp;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>The strength and scaling cross-validation chose, what they scored, and each image's out-of-fold
/// probabilities.</summary>
public sealed record CrossValidation(double Strength, double Accuracy, double LogLoss, float[][] OutOfFold,
    FeatureScaling Scaling = FeatureScaling.EachApart);

/// <summary>
/// How the head's features are brought to one scale before the L2 penalty. Each apart (standardised): a feature that
/// barely varies weighs as much as the loudest, which pays on images far from ImageNet (brain-mri: 2.5 points over
/// "together"). Together (centred, one shared scale: the raw features' penalty, as ML.NET's route has it): the quiet
/// features stay quiet, which pays on photos near ImageNet (toy-dogs: 1.2 points, hymenoptera: 0.7). Neither wins
/// everywhere, so cross-validation chooses (docs/benchmarks.md).
/// </summary>
public enum FeatureScaling
{
    EachApart,
    Together,
}

/// <summary>
/// What a head learns from: per image and label a target and a weight. Softmax: one-hot rows, weighted by the
/// image's label. Sigmoid (multilabel): any number of ones, each label its own binary problem whose positives and
/// negatives weigh alike when balancing. <see cref="Groups"/> (an image's label, or its first) stratify the folds.
/// </summary>
public sealed record HeadTargets(double[][] Values, double[][] Weights, bool Sigmoid, long[] Groups, int Classes)
{
    public int Rows => Values.Length;

    public static HeadTargets OneHot(long[] labels, int classes, double[] labelWeights) => new(
        labels.Select(l => Enumerable.Range(0, classes).Select(k => k == l ? 1.0 : 0.0).ToArray()).ToArray(),
        labels.Select(l => Enumerable.Repeat(labelWeights[l], classes).ToArray()).ToArray(), false, labels, classes);

    /// <param name="balance">Each label's positives weigh as much as its negatives in total (class-weighted binary
    /// cross-entropy), so a rare label is not learnt as "never".</param>
    public static HeadTargets MultiHot(IReadOnlyList<IReadOnlyList<int>> targets, long[] groups, int classes,
        bool balance)
    {
        var values = targets.Select(t => Enumerable.Range(0, classes).Select(k => t.Contains(k) ? 1.0 : 0.0)
            .ToArray()).ToArray();
        var n = values.Length;
        var positives = Enumerable.Range(0, classes).Select(k => values.Count(v => v[k] > 0)).ToArray();
        double Weight(int k, bool positive) => !balance ? 1
            : n / (2.0 * Math.Max(1, positive ? positives[k] : n - positives[k]));
        var weights = values.Select(v => v.Select((y, k) => Weight(k, y > 0)).ToArray()).ToArray();
        return new(values, weights, true, groups, classes);
    }

    internal HeadTargets Take(int[] rows) => new(rows.Select(r => Values[r]).ToArray(),
        rows.Select(r => Weights[r]).ToArray(), Sigmoid, rows.Select(r => Groups[r]).ToArray(), Classes);

    /// <summary>Log loss (mean binary cross-entropy for sigmoid) and accuracy (exact match at 0.5 for sigmoid) of
    /// probabilities, one row per image.</summary>
    public (double LogLoss, double Accuracy) Score(float[][] probabilities) => Sigmoid
        ? (SoftmaxRegression.BinaryLogLoss(probabilities, Values), SoftmaxRegression.ExactMatch(probabilities, Values))
        : (SoftmaxRegression.LogLoss(probabilities, Groups), SoftmaxRegression.Accuracy(probabilities, Groups));

    internal Tensor ValueTensor() => Matrix(Values);

    /// <summary>The weights scaled so that each label's sum to 1 (sigmoid) or all to 1 (softmax): a mean
    /// loss.</summary>
    internal Tensor WeightTensor()
    {
        var w = Matrix(Weights);
        return Sigmoid ? w / w.sum(0, true).clamp_min(1e-12) : w / w.sum().div(Classes);
    }

    /// <summary>Probabilities from logits: softmax across labels or a sigmoid each.</summary>
    public Tensor Probabilities(Tensor logits) =>
        Sigmoid ? nn.functional.sigmoid(logits) : nn.functional.softmax(logits, 1);

    private Tensor Matrix(double[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, Classes]);
}

/// <summary>
/// The frozen head as a convex problem: multinomial logistic regression with an L2 penalty on centred features,
/// fitted full-batch by L-BFGS (the kind of head ML.NET's LbfgsMaximumEntropy and Create ML fit); for multilabel
/// datasets one binary logistic regression per label (sigmoid outputs), fitted by the same solver. Its strength is
/// chosen by stratified k-fold cross-validation on the cached features, so every training image both chooses it and,
/// in the refit, learns from it; no small validation split decides. Works in double precision on the CPU: 512-d
/// features make each fit milliseconds to a second.
/// </summary>
public static class SoftmaxRegression
{
    /// <summary>L2 strengths tried, on the mean loss over features centred and brought to unit scale (either
    /// scaling).</summary>
    public static readonly double[] Strengths = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1];

    private const int History = 10;

    /// <summary>When a fit stops: the largest gradient entry, at most so many iterations, or a relative change of the
    /// loss below this.</summary>
    private sealed record Convergence(double Gradient, int Iterations, double Change);

    /// <summary>The fit a model keeps: to the solver's precision.</summary>
    private static readonly Convergence Final = new(1e-6, 300, 1e-10);

    /// <summary>
    /// The fits that only compare strengths: their log losses must order the strengths, which they do long before
    /// the last digits settle (scikit-learn's LogisticRegression stops at 1e-4 and 100 iterations too). The folds
    /// of flowers-small's 3,446 images took most of a run's CPU to the final precision.
    /// </summary>
    private static readonly Convergence Comparison = new(1e-4, 100, 1e-9);
    /// <summary>The alpha of every tensor sum: one scalar that lives as long as the process.</summary>
    private static readonly Scalar One = 1.0.ToScalar();
    private static readonly int ProcessorCount = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Fits on all rows: weight (labels x features) and bias in the original feature space.</summary>
    public static (Tensor Weight, Tensor Bias) Fit(Tensor features, long[] labels, int classes, double strength,
        double[] labelWeights, FeatureScaling scaling = FeatureScaling.EachApart) =>
        Fit(features, HeadTargets.OneHot(labels, classes, labelWeights), strength, scaling);

    public static (Tensor Weight, Tensor Bias) Fit(Tensor features, HeadTargets targets, double strength,
        FeatureScaling scaling = FeatureScaling.EachApart)
    {
        using var scope = NewDisposeScope();
        // Scaled in place on one copy: at 60,000 x 768 each double-precision copy is 370 MB.
        var x = features.cpu().to(ScalarType.Float64, copy: true);
        var (mean, std) = Moments(x);
        var scale = Scale(std, scaling);
        var classes = targets.Classes;
        var theta = Solve(x.sub_(mean).div_(scale), targets, strength, null, Final);
        var (w, b) = Split(theta, classes, x.shape[1]);
        // Fold the scaling into the dense layer: w (x - m) / s + b = (w / s) x + (b - (w / s) m).
        var weight = w / scale;
        var bias = b - weight.matmul(mean.squeeze(0));
        return (weight.to(ScalarType.Float32).MoveToOuterDisposeScope(),
            bias.to(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    public static CrossValidation Choose(Tensor features, long[] labels, int classes, double[] labelWeights, int folds,
        int seed, CancellationToken ct, IReadOnlyList<double>? strengths = null) =>
        Choose(features, HeadTargets.OneHot(labels, classes, labelWeights), folds, seed, ct, strengths);

    /// <summary>Both scalings, each apart first (a tie keeps it).</summary>
    public static readonly FeatureScaling[] Scalings = [FeatureScaling.EachApart, FeatureScaling.Together];

    /// <summary>
    /// Stratified k-fold cross-validation over <see cref="Strengths"/> and <paramref name="scalings"/> (log loss
    /// decides); returns the pair and the out-of-fold probabilities with it. Folds are drawn from
    /// <paramref name="seed"/>.
    /// </summary>
    public static CrossValidation Choose(Tensor features, HeadTargets targets, int folds, int seed,
        CancellationToken ct, IReadOnlyList<double>? strengths = null, IReadOnlyList<FeatureScaling>? scalings = null)
    {
        strengths ??= Strengths;
        scalings ??= Scalings;
        using var scope = NewDisposeScope();
        // Each fold takes its rows in double precision itself: a double copy of all of them would only be sliced.
        var x = features.cpu();
        var n = targets.Rows;
        var groups = targets.Groups;
        var fold = Folds(groups, (int)groups.Max() + 1, Math.Clamp(folds, 2, Math.Max(2, n)), seed);
        var k = fold.Max() + 1;
        var classes = targets.Classes;
        // One candidate a scaling and strength, in that order.
        var probabilities = scalings.SelectMany(_ => strengths).Select(_ => new float[n][]).ToArray();
        // The folds in parallel, each on one libtorch thread: the fits are small products that a second thread of
        // libtorch's own barely speeds up, while two folds at once take half the time.
        using var oneThread = new OneThread();
        Parallel.For(0, k, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = ProcessorCount },
            f => CrossValidateFold(x, targets, strengths, scalings, fold, f, probabilities, ct));
        var scores = probabilities.Select(targets.Score).ToArray();
        var best = Enumerable.Range(0, probabilities.Length).MinBy(c => scores[c].LogLoss);
        return new CrossValidation(strengths[best % strengths.Count], scores[best].Accuracy, scores[best].LogLoss,
            probabilities[best], scalings[best / strengths.Count]);
    }

    /// <summary>Fits fold <paramref name="f"/>'s training rows at each scaling and strength; writes its rows'
    /// probabilities.</summary>
    private static void CrossValidateFold(Tensor x, HeadTargets targets, IReadOnlyList<double> strengths,
        IReadOnlyList<FeatureScaling> scalings, int[] fold, int f, float[][][] probabilities, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        var n = targets.Rows;
        var trainRows = Enumerable.Range(0, n).Where(i => fold[i] != f).ToArray();
        var testRows = Enumerable.Range(0, n).Where(i => fold[i] == f).ToArray();
        if (testRows.Length == 0) return;
        var xTrain = Rows(x, trainRows);
        var xTest = Rows(x, testRows);
        var (mean, std) = Moments(xTrain);
        // In place: the folds run in parallel, and each copy of a fold's rows is hundreds of MB at 60,000 images.
        xTrain.sub_(mean);
        xTest.sub_(mean);
        var yTrain = targets.Take(trainRows);
        Tensor? applied = null;
        for (var c = 0; c < scalings.Count; c++)
        {
            // From one scaling to the next in place: multiply by the old scale, divide by the new.
            var scale = Scale(std, scalings[c]);
            using var change = applied is null ? scale.reciprocal() : applied / scale;
            xTrain.mul_(change);
            xTest.mul_(change);
            applied = scale;
            Tensor? start = null;
            // Strongest penalty first: each fit starts from the last, so the weaker ones converge in few steps.
            foreach (var s in Enumerable.Range(0, strengths.Count).OrderByDescending(s => strengths[s]))
            {
                ct.ThrowIfCancellationRequested();
                var theta = Solve(xTrain, yTrain, strengths[s], start, Comparison);
                start = theta;
                var (w, b) = Split(theta, targets.Classes, x.shape[1]);
                using var p = targets.Probabilities(xTest.matmul(w.t()).add(b, One)).to(ScalarType.Float32);
                var rows = RowArrays(p);
                for (var r = 0; r < testRows.Length; r++)
                    probabilities[c * strengths.Count + s][testRows[r]] = rows[r];
            }
        }
    }

    /// <summary>The chosen rows in double precision, one new tensor (no float copy left behind).</summary>
    private static Tensor Rows(Tensor x, int[] rows)
    {
        using var index = tensor(rows.Select(i => (long)i).ToArray());
        using var chosen = x.index_select(0, index);
        return chosen.to(ScalarType.Float64, copy: true);
    }

    /// <summary>A matrix's rows as arrays, read at once: indexing row by row leaves a tensor per row until the scope
    /// ends.</summary>
    public static float[][] RowArrays(Tensor matrix)
    {
        var columns = (int)matrix.shape[1];
        var all = matrix.contiguous().data<float>().ToArray();
        return Enumerable.Range(0, (int)matrix.shape[0]).Select(r => all.AsSpan(r * columns, columns).ToArray())
            .ToArray();
    }

    public static double LogLoss(float[][] probabilities, long[] labels) =>
        -probabilities.Select((p, i) => Math.Log(Math.Max(p[labels[i]], 1e-7))).Average();

    public static double Accuracy(float[][] probabilities, long[] labels) =>
        probabilities.Select((p, i) => Core.Scoring.Evaluation.ArgMax(p) == labels[i] ? 1.0 : 0.0).Average();

    /// <summary>Mean binary cross-entropy over images and labels.</summary>
    public static double BinaryLogLoss(float[][] probabilities, double[][] targets) =>
        -probabilities.SelectMany((p, i) => p.Select((q, k) =>
            Math.Log(Math.Max(targets[i][k] > 0 ? q : 1 - q, 1e-7)))).Average();

    /// <summary>Share of images whose labels at 0.5 are exactly right.</summary>
    public static double ExactMatch(float[][] probabilities, double[][] targets) =>
        probabilities.Select((p, i) => p.Select((q, k) => q >= 0.5 == targets[i][k] > 0).All(b => b) ? 1.0 : 0.0)
            .Average();

    /// <summary>Fold of each row: each label's rows shuffled and dealt round the folds.</summary>
    public static int[] Folds(long[] labels, int classes, int folds, int seed)
    {
        var random = new Random(seed);
        var fold = new int[labels.Length];
        for (var c = 0; c < classes; c++)
        {
            var rows = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray();
            random.Shuffle(rows);
            for (var j = 0; j < rows.Length; j++) fold[rows[j]] = j % folds;
        }
        return fold;
    }

    private static (Tensor Mean, Tensor Std) Moments(Tensor x) =>
        (x.mean([0], keepdim: true), maximum(x.std(0, keepdim: true), tensor(1e-6)));

    /// <summary>What the features are divided by: each its own standard deviation, or all the root mean square of
    /// them (the strengths keep one meaning across datasets either way).</summary>
    private static Tensor Scale(Tensor std, FeatureScaling scaling) => scaling == FeatureScaling.EachApart ? std
        : std.square().mean().sqrt().expand_as(std).contiguous();

    private static (Tensor W, Tensor B) Split(Tensor theta, int classes, long features) =>
        (theta.narrow(0, 0, classes * features).view(classes, features), theta.narrow(0, classes * features, classes));

    /// <summary>
    /// Weighted cross-entropy (softmax) or binary cross-entropy per label (sigmoid) plus strength / 2 * |W|^2 (bias not
    /// penalised), and its gradient; both have the same gradient in the logits, (p - y) times the weight.
    /// </summary>
    /// <remarks>
    /// No scalar crosses into libtorch here (the strength is a tensor, values are read from memory): thousands of calls
    /// with temporary scalars failed now and then inside libtorch ("Unknown scalar type"), twice on flowers-small.
    /// Tensor + passes a temporary alpha scalar too, which the collector may free during the native call (it
    /// failed a fold of toy-dogs once the folds ran in parallel): every sum here passes <see cref="One"/>; - takes no
    /// scalar.
    /// </remarks>
    private static double LossAndGradient(Tensor x, Tensor y, Tensor notY, Tensor weights, bool sigmoid,
        double[] theta, double[] gradient, int classes, Tensor strength)
    {
        using var scope = NewDisposeScope();
        var (w, b) = Split(tensor(theta), classes, x.shape[1]);
        var logits = x.matmul(w.t()).add(b, One);
        double dataLoss;
        Tensor p;
        if (sigmoid)
        {
            // log sigmoid(z) for the positives, log sigmoid(-z) for the negatives, stable for large |z|.
            var logPositive = nn.functional.logsigmoid(logits);
            var logNegative = nn.functional.logsigmoid(logits.neg());
            dataLoss = (y * logPositive).add(notY * logNegative, One).mul(weights).sum().data<double>()[0];
            p = logPositive.exp();
        }
        else
        {
            var logp = nn.functional.log_softmax(logits, 1);
            dataLoss = (logp * y).mul(weights).sum().data<double>()[0];
            p = logp.exp();
        }
        var penalty = w.mul(w).sum().mul(strength).data<double>()[0];
        var g = (p - y) * weights;
        cat([g.t().matmul(x).add(w.mul(strength), One).flatten(), g.sum(0, false)]).data<double>().CopyTo(gradient, 0);
        return -dataLoss + 0.5 * penalty;
    }

    /// <summary>
    /// L-BFGS (two-loop recursion) with a backtracking Armijo line search; deterministic. The vector algebra runs on
    /// arrays: a few thousand parameters, where a tensor call per dot product would cost more than the arithmetic.
    /// </summary>
    private static Tensor Solve(Tensor x, HeadTargets targets, double strength, Tensor? start, Convergence until)
    {
        using var scope = NewDisposeScope();
        using var _ = new OneThread();
        var classes = targets.Classes;
        var values = targets.ValueTensor();
        var notValues = ones_like(values) - values;
        var weights = targets.WeightTensor();
        var sigmoid = targets.Sigmoid;
        var penalty = tensor(strength);
        var size = classes * (int)x.shape[1] + classes;
        var theta = start?.data<double>().ToArray() ?? new double[size];
        var g = new double[size];
        var loss = LossAndGradient(x, values, notValues, weights, sigmoid, theta, g, classes, penalty);
        var s = new List<double[]>();
        var y = new List<double[]>();
        var next = new double[size];
        var nextG = new double[size];
        for (var iteration = 0; iteration < until.Iterations; iteration++)
        {
            if (g.Max(Math.Abs) < until.Gradient) break;
            var direction = TwoLoop(g, s, y);
            for (var i = 0; i < size; i++) direction[i] = -direction[i];
            var slope = Dot(direction, g);
            if (slope >= 0)
            {
                for (var i = 0; i < size; i++) direction[i] = -g[i];
                slope = -Dot(g, g);
                s.Clear();
                y.Clear();
            }
            var step = s.Count == 0 ? Math.Min(1.0, 1.0 / Math.Max(g.Sum(Math.Abs), 1e-12)) : 1.0;
            double nextLoss;
            while (true)
            {
                for (var i = 0; i < size; i++) next[i] = theta[i] + step * direction[i];
                nextLoss = LossAndGradient(x, values, notValues, weights, sigmoid, next, nextG, classes,
                    penalty);
                if (nextLoss <= loss + 1e-4 * step * slope || step < 1e-10) break;
                step *= 0.5;
            }
            var sk = new double[size];
            var yk = new double[size];
            for (var i = 0; i < size; i++) (sk[i], yk[i]) = (next[i] - theta[i], nextG[i] - g[i]);
            if (Dot(sk, yk) > 1e-12)
            {
                s.Add(sk);
                y.Add(yk);
                if (s.Count > History) { s.RemoveAt(0); y.RemoveAt(0); }
            }
            var change = loss - nextLoss;
            (theta, next) = (next, theta);
            (g, nextG) = (nextG, g);
            loss = nextLoss;
            if (Math.Abs(change) < until.Change * Math.Max(1, Math.Abs(loss))) break;
        }
        return tensor(theta).MoveToOuterDisposeScope();
    }

    private static double[] TwoLoop(double[] g, List<double[]> s, List<double[]> y)
    {
        var q = (double[])g.Clone();
        var alpha = new double[s.Count];
        var rho = new double[s.Count];
        for (var k = s.Count - 1; k >= 0; k--)
        {
            rho[k] = 1 / Dot(y[k], s[k]);
            alpha[k] = rho[k] * Dot(s[k], q);
            Axpy(-alpha[k], y[k], q);
        }
        if (s.Count > 0)
        {
            var scale = Dot(s[^1], y[^1]) / Dot(y[^1], y[^1]);
            for (var i = 0; i < q.Length; i++) q[i] *= scale;
        }
        for (var k = 0; k < s.Count; k++) Axpy(alpha[k] - rho[k] * Dot(y[k], q), s[k], q);
        return q;
    }

    private static double Dot(double[] a, double[] b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (var i = 0; i < y.Length; i++) y[i] += a * x[i];
    }
}

/// <summary>
/// libtorch on one thread for a while: the head's small matrix products cost less than waking a second thread for
/// each of them (seven times less on a busy 2-core machine).
/// </summary>
internal sealed class OneThread : IDisposable
{
    private readonly int threads = get_num_threads();

    public OneThread() => set_num_threads(1);

    public void Dispose() => set_num_threads(threads);
}
