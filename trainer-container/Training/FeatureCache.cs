using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>
/// Backbone outputs computed once, so that epochs cost milliseconds instead of backbone passes: pooled features
/// (for the head) and, when the top stages are fine-tuned, the activations entering them in half precision.
/// Row r belongs to image r % Images, view r / Images.
/// </summary>
public sealed class FeatureCache : IDisposable
{
    public required Tensor Features { get; init; }
    public Tensor? Activations { get; init; }
    public required long[] Labels { get; init; }
    public required int Images { get; init; }
    public required int Views { get; init; }

    /// <summary>
    /// Views of each image: for training, the plain image then <paramref name="augmented"/> augmented ones; for
    /// evaluation (<paramref name="augmentation"/> null), the plain image and its mirror image.
    /// </summary>
    public static FeatureCache Build(FeatureExtractor extractor, Device device, IReadOnlyList<LabelledImage> images, int augmented,
        Augmentation? augmentation, bool withActivations, int batchSize, Action<int>? onBatch, CancellationToken ct)
    {
        var views = augmentation is null ? 2 : 1 + augmented;
        var rows = (long)views * images.Count;
        // Filled in place, batch by batch: concatenating at the end would hold the cache twice at the peak.
        Tensor? features = null, activations = null;
        using (inference_mode())
        {
            long row = 0;
            for (var v = 0; v < views; v++)
                for (var start = 0; start < images.Count; start += batchSize)
                {
                    ct.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var batch = images.Skip(start).Take(batchSize).ToList();
                    var x = Pixels(batch).to(device);
                    if (v > 0) x = augmentation is null ? x.flip(3) : augmentation.Apply(x);
                    var (f, a) = extractor.Run(x);
                    features ??= zeros([rows, f.shape[1]], device: device).MoveToOuterDisposeScope();
                    features.narrow(0, row, batch.Count).copy_(f);
                    if (withActivations)
                    {
                        activations ??= zeros([rows, .. a!.shape[1..]], ScalarType.Float16, device).MoveToOuterDisposeScope();
                        activations.narrow(0, row, batch.Count).copy_(a!);
                    }
                    row += batch.Count;
                    onBatch?.Invoke(batch.Count);
                }
        }
        return new FeatureCache
        {
            Features = features ?? zeros(0, 512),
            Activations = activations,
            Labels = Enumerable.Range(0, views).SelectMany(_ => images.Select(i => (long)i.Label)).ToArray(),
            Images = images.Count,
            Views = views,
        };
    }

    /// <summary>A batch of images as float BGR 0-255 pixels, N x 3 x 224 x 224.</summary>
    public static Tensor Pixels(IReadOnlyList<LabelledImage> batch)
    {
        var bytes = new byte[batch.Count * batch[0].Pixels.Length];
        for (var i = 0; i < batch.Count; i++) batch[i].Pixels.CopyTo(bytes, i * batch[i].Pixels.Length);
        using var raw = tensor(bytes, [batch.Count, 3, 224, 224]);
        return raw.to(ScalarType.Float32);
    }

    public void Dispose()
    {
        Features.Dispose();
        Activations?.Dispose();
    }
}
