using Pipeline.Trainer.Training;
using Xunit;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Tests;

/// <summary>
/// The lbfgs head's cross-validation chooses how the features are scaled, by what the features are: standardised
/// each apart where a quiet feature carries the labels, scaled together where many quiet features carry only noise.
/// </summary>
public class HeadScalingTests
{
    [Fact]
    public void A_quiet_feature_that_carries_the_labels_is_standardised_each_apart()
    {
        // Feature 0 tells the labels apart at a thousandth of the others' scale; the rest is noise.
        var (features, labels) = Features(rows: 120, signal: 1, signalScale: 1e-3, noise: 9, noiseScale: 1, seed: 1);

        var cv = SoftmaxRegression.Choose(features, labels, 2, [1, 1], folds: 3, seed: 1, default);

        Assert.Equal(FeatureScaling.EachApart, cv.Scaling);
        Assert.True(cv.Accuracy > 0.9, $"cross-validated accuracy {cv.Accuracy}");
        features.Dispose();
    }

    [Fact]
    public void Many_quiet_features_of_noise_are_scaled_together_and_stay_quiet()
    {
        // Five loud features carry the labels; four hundred quiet ones are noise that standardising would magnify.
        var (features, labels) = Features(rows: 60, signal: 5, signalScale: 1, noise: 400, noiseScale: 0.01, seed: 2);

        var cv = SoftmaxRegression.Choose(features, labels, 2, [1, 1], folds: 3, seed: 2, default);
        var (weight, bias) = SoftmaxRegression.Fit(features, labels, 2, cv.Strength, [1, 1], cv.Scaling);

        Assert.Equal(FeatureScaling.Together, cv.Scaling);
        // The fit is returned in the raw features' space: it scores them without any scaling of its own.
        using var predicted = features.matmul(weight.t()).add(bias).argmax(1);
        var right = predicted.data<long>().ToArray().Zip(labels).Count(p => p.First == p.Second);
        Assert.True(right >= 54, $"{right} of 60 right on the training rows");
        features.Dispose();
        weight.Dispose();
        bias.Dispose();
    }

    /// <summary>Two labels; each signal feature is the label's sign plus noise of half its size, then scaled.</summary>
    private static (Tensor Features, long[] Labels) Features(int rows, int signal, double signalScale, int noise,
        double noiseScale, int seed)
    {
        var random = new Random(seed);
        double Normal() =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var labels = Enumerable.Range(0, rows).Select(i => (long)(i % 2)).ToArray();
        var values = labels.SelectMany(l =>
                Enumerable.Range(0, signal).Select(_ => ((l == 1 ? 1 : -1) + 0.5 * Normal()) * signalScale)
                    .Concat(Enumerable.Range(0, noise).Select(_ => Normal() * noiseScale)))
            .Select(v => (float)v).ToArray();
        return (tensor(values, [rows, signal + noise]), labels);
    }
}
