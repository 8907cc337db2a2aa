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
    public ActivationRows? Activations { get; init; }
    public required long[] Labels { get; init; }
    public required int Images { get; init; }
    public required int Views { get; init; }

    private const int CollectEvery = 8;

    /// <summary>The plain image.</summary>
    public static readonly Func<Tensor, Tensor>? Plain = null;

    /// <summary>The mirror image, for the mirror average at test time.</summary>
    public static Tensor Mirror(Tensor pixels) => pixels.flip(3);

    /// <summary>
    /// One row per image and view: <paramref name="views"/> turns a batch of pixels into each view (null: as it is).
    /// With <paramref name="featuresToo"/> false only the activations are kept (views the head never sees).
    /// </summary>
    public static FeatureCache Build(FeatureExtractor extractor, Device device, IReadOnlyList<LabelledImage> images,
        IReadOnlyList<Func<Tensor, Tensor>?> views, bool withActivations, int batchSize, Action<int>? onBatch,
        CancellationToken ct, CacheSpace? space = null)
    {
        var rows = (long)views.Count * images.Count;
        // Filled in place, batch by batch: concatenating at the end would hold the cache twice at the peak.
        Tensor? features = null;
        ActivationRows? activations = null;
        var batches = 0;
        using (inference_mode())
        {
            long row = 0;
            foreach (var view in views)
                for (var start = 0; start < images.Count; start += batchSize)
                {
                    ct.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var batch = images.Skip(start).Take(batchSize).ToList();
                    var (f, a) = view is null ? extractor.Run(batch) : extractor.Run(view(Pixels(batch).to(device)));
                    features ??= zeros([rows, f.shape[1]], device: device).MoveToOuterDisposeScope();
                    features.narrow(0, row, batch.Count).copy_(f);
                    if (withActivations)
                    {
                        activations ??= ActivationRows.Create(rows, a!.shape[1..], device, space);
                        activations.Write(row, a!);
                    }
                    row += batch.Count;
                    onBatch?.Invoke(batch.Count);
                    if (++batches % CollectEvery == 0) ProcessMemory.Collect();
                }
        }
        return new FeatureCache
        {
            Features = features ?? zeros(0, Model.Classifier.Inputs),
            Activations = activations,
            Labels = Enumerable.Range(0, views.Count).SelectMany(_ => images.Select(i => (long)i.Label)).ToArray(),
            Images = images.Count,
            Views = views.Count,
        };
    }

    /// <summary>A batch of images' bytes as floats (BGR 0-255, N x 3 x 224 x 224) into <paramref name="into"/>, one
    /// image at a time through <paramref name="scratch"/> (an image's size), without libtorch.</summary>
    public static void Floats(IReadOnlyList<LabelledImage> batch, Span<float> into, byte[] scratch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].CopyPixels(scratch);
            var image = into.Slice(i * scratch.Length, scratch.Length);
            for (var j = 0; j < scratch.Length; j++) image[j] = scratch[j];
        }
    }

    /// <summary>A batch of images as float BGR 0-255 pixels, N x 3 x 224 x 224.</summary>
    public static Tensor Pixels(IReadOnlyList<LabelledImage> batch)
    {
        var size = batch[0].PixelCount;
        var bytes = new byte[batch.Count * size];
        for (var i = 0; i < batch.Count; i++) batch[i].CopyPixels(bytes.AsSpan(i * size, size));
        using var raw = tensor(bytes, [batch.Count, 3, 224, 224]);
        return raw.to(ScalarType.Float32);
    }

    public void Dispose()
    {
        Features.Dispose();
        Activations?.Dispose();
    }
}
