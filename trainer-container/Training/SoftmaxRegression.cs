using TorchSharp;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>The strength cross-validation chose, what it scored, and each image's out-of-fold probabilities.</summary>
public sealed record CrossValidation(double Strength, double Accuracy, double LogLoss, float[][] OutOfFold);

/// <summary>
/// The frozen head as a convex problem: multinomial logistic regression with an L2 penalty on standardised features,
/// fitted full-batch by L-BFGS (the kind of head ML.NET's LbfgsMaximumEntropy and Create ML fit). Its strength is
/// chosen by stratified k-fold cross-validation on the cached features, so every training image both chooses it and,
/// in the refit, learns from it; no small validation split decides. Works in double precision on the CPU: 512-d
/// features make each fit milliseconds to a second.
/// </summary>
public static class SoftmaxRegression
{
    /// <summary>L2 strengths tried, on the mean loss over standardised features.</summary>
    public static readonly double[] Strengths = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1];

    private const int History = 10, MaxIterations = 300;
    /// <summary>The alpha of every tensor sum: one scalar that lives as long as the process.</summary>
    private static readonly Scalar One = 1.0.ToScalar();
    private static readonly int ProcessorCount = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Fits on all rows: weight (labels x features) and bias in the original feature space.</summary>
    public static (Tensor Weight, Tensor Bias) Fit(Tensor features, long[] labels, int classes, double strength,
        double[] labelWeights)
    {
        using var scope = NewDisposeScope();
        var x = features.to(ScalarType.Float64).cpu();
        var (mean, std) = Standardiser(x);
        var theta = Solve((x - mean) / std, labels, classes, strength, labelWeights, null);
        var (w, b) = Split(theta, classes, x.shape[1]);
        // Fold the standardisation into the dense layer: w (x - m) / s + b = (w / s) x + (b - (w / s) m).
        var weight = w / std;
        var bias = b - weight.matmul(mean.squeeze(0));
        return (weight.to(ScalarType.Float32).MoveToOuterDisposeScope(),
            bias.to(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Stratified k-fold cross-validation over <see cref="Strengths"/> (log loss decides); returns the strength and
    /// the out-of-fold probabilities at that strength. Folds are drawn from <paramref name="seed"/>.
    /// </summary>
    public static CrossValidation Choose(Tensor features, long[] labels, int classes, double[] labelWeights, int folds,
        int seed, CancellationToken ct, IReadOnlyList<double>? strengths = null)
    {
        strengths ??= Strengths;
        using var scope = NewDisposeScope();
        var x = features.to(ScalarType.Float64).cpu();
        var fold = Folds(labels, classes, Math.Clamp(folds, 2, Math.Max(2, labels.Length)), seed);
        var k = fold.Max() + 1;
        var n = labels.Length;
        var probabilities = strengths.Select(_ => new float[n][]).ToArray();
        // The folds in parallel, each on one libtorch thread: the fits are small products that a second thread of
        // libtorch's own barely speeds up, while two folds at once take half the time.
        using var oneThread = new OneThread();
        Parallel.For(0, k, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = ProcessorCount },
            f => CrossValidateFold(x, labels, classes, labelWeights, strengths, fold, f, probabilities, ct));
        var scores = probabilities.Select(p => (LogLoss(p, labels), Accuracy(p, labels))).ToArray();
        var best = Enumerable.Range(0, strengths.Count).MinBy(s => scores[s].Item1);
        return new CrossValidation(strengths[best], scores[best].Item2, scores[best].Item1, probabilities[best]);
    }

    /// <summary>Fits fold <paramref name="f"/>'s training rows at each strength; writes its rows' probabilities.</summary>
    private static void CrossValidateFold(Tensor x, long[] labels, int classes, double[] labelWeights,
        IReadOnlyList<double> strengths, int[] fold, int f, float[][][] probabilities, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        var n = labels.Length;
        var trainRows = Enumerable.Range(0, n).Where(i => fold[i] != f).ToArray();
        var testRows = Enumerable.Range(0, n).Where(i => fold[i] == f).ToArray();
        if (testRows.Length == 0) return;
        var xTrain = x.index_select(0, tensor(trainRows.Select(i => (long)i).ToArray()));
        var xTest = x.index_select(0, tensor(testRows.Select(i => (long)i).ToArray()));
        var (mean, std) = Standardiser(xTrain);
        xTrain = (xTrain - mean) / std;
        xTest = (xTest - mean) / std;
        var yTrain = trainRows.Select(i => labels[i]).ToArray();
        Tensor? start = null;
        // Strongest penalty first: each fit starts from the last, so the weaker ones converge in few steps.
        foreach (var s in Enumerable.Range(0, strengths.Count).OrderByDescending(s => strengths[s]))
        {
            ct.ThrowIfCancellationRequested();
            var theta = Solve(xTrain, yTrain, classes, strengths[s], labelWeights, start);
            start = theta;
            var (w, b) = Split(theta, classes, x.shape[1]);
            var p = nn.functional.softmax(xTest.matmul(w.t()).add(b, One), 1).to(ScalarType.Float32);
            for (var r = 0; r < testRows.Length; r++) probabilities[s][testRows[r]] = p[r].data<float>().ToArray();
        }
    }

    public static double LogLoss(float[][] probabilities, long[] labels) =>
        -probabilities.Select((p, i) => Math.Log(Math.Max(p[labels[i]], 1e-7))).Average();

    public static double Accuracy(float[][] probabilities, long[] labels) =>
        probabilities.Select((p, i) => Core.Scoring.Evaluation.ArgMax(p) == labels[i] ? 1.0 : 0.0).Average();

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

    private static (Tensor Mean, Tensor Std) Standardiser(Tensor x) =>
        (x.mean([0], keepdim: true), maximum(x.std(0, keepdim: true), tensor(1e-6)));

    private static (Tensor W, Tensor B) Split(Tensor theta, int classes, long features) =>
        (theta.narrow(0, 0, classes * features).view(classes, features), theta.narrow(0, classes * features, classes));

    /// <summary>Weighted mean cross-entropy plus strength / 2 * |W|^2 (bias not penalised), and its gradient.</summary>
    /// <remarks>
    /// No scalar crosses into libtorch here (the strength is a tensor, values are read from memory): thousands of calls
    /// with temporary scalars failed now and then inside libtorch ("Unknown scalar type"), twice on flowers-small.
    /// Tensor + passes a temporary alpha scalar too, which the collector may free during the native call (it
    /// failed a fold of toy-dogs once the folds ran in parallel): every sum here passes <see cref="One"/>; - takes no
    /// scalar.
    /// </remarks>
    private static double LossAndGradient(Tensor x, Tensor oneHot, Tensor rowWeights, double[] theta, double[] gradient,
        int classes, Tensor strength)
    {
        using var scope = NewDisposeScope();
        var (w, b) = Split(tensor(theta), classes, x.shape[1]);
        var logp = nn.functional.log_softmax(x.matmul(w.t()).add(b, One), 1);
        var dataLoss = (logp * oneHot).sum(1).mul(rowWeights).sum().data<double>()[0];
        var penalty = w.mul(w).sum().mul(strength).data<double>()[0];
        var g = (logp.exp() - oneHot) * rowWeights.unsqueeze(1);
        cat([g.t().matmul(x).add(w.mul(strength), One).flatten(), g.sum(0, false)]).data<double>().CopyTo(gradient, 0);
        return -dataLoss + 0.5 * penalty;
    }

    /// <summary>
    /// L-BFGS (two-loop recursion) with a backtracking Armijo line search; deterministic. The vector algebra runs on
    /// arrays: a few thousand parameters, where a tensor call per dot product would cost more than the arithmetic.
    /// </summary>
    private static Tensor Solve(Tensor x, long[] labels, int classes, double strength, double[] labelWeights,
        Tensor? start)
    {
        using var scope = NewDisposeScope();
        using var _ = new OneThread();
        var oneHot = nn.functional.one_hot(tensor(labels), classes).to(ScalarType.Float64);
        var penalty = tensor(strength);
        var rowWeights = tensor(labels.Select(l => labelWeights[l]).ToArray());
        rowWeights /= rowWeights.sum();
        var size = classes * (int)x.shape[1] + classes;
        var theta = start?.data<double>().ToArray() ?? new double[size];
        var g = new double[size];
        var loss = LossAndGradient(x, oneHot, rowWeights, theta, g, classes, penalty);
        var s = new List<double[]>();
        var y = new List<double[]>();
        var next = new double[size];
        var nextG = new double[size];
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            if (g.Max(Math.Abs) < 1e-6) break;
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
                nextLoss = LossAndGradient(x, oneHot, rowWeights, next, nextG, classes, penalty);
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
            if (Math.Abs(change) < 1e-10 * Math.Max(1, Math.Abs(loss))) break;
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
