using Pipeline.Trainer.Model;
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
    public static FeatureCache Build(ResNetBackbone backbone, IReadOnlyList<LabelledImage> images, int augmented,
        Augmentation? augmentation, int? activationStage, int batchSize, Action<int>? onBatch, CancellationToken ct)
    {
        var device = backbone.MeanImage.device;
        var views = augmentation is null ? 2 : 1 + augmented;
        var features = new List<Tensor>();
        var activations = new List<Tensor>();
        using (inference_mode())
        {
            for (var v = 0; v < views; v++)
                for (var start = 0; start < images.Count; start += batchSize)
                {
                    ct.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var batch = images.Skip(start).Take(batchSize).ToList();
                    var x = Pixels(batch).to(device);
                    if (v > 0) x = augmentation is null ? x.flip(3) : augmentation.Apply(x);
                    var stage = activationStage ?? 4;
                    var bottom = backbone.Bottom(x, stage);
                    features.Add(backbone.Top(bottom, stage).MoveToOuterDisposeScope());
                    if (activationStage is not null) activations.Add(bottom.to(ScalarType.Float16).MoveToOuterDisposeScope());
                    onBatch?.Invoke(batch.Count);
                }
        }
        var labels = Enumerable.Range(0, views).SelectMany(_ => images.Select(i => (long)i.Label)).ToArray();
        var cache = new FeatureCache
        {
            Features = Concat(features),
            Activations = activationStage is null ? null : Concat(activations),
            Labels = labels,
            Images = images.Count,
            Views = views,
        };
        return cache;
    }

    /// <summary>A batch of images as float BGR 0-255 pixels, N x 3 x 224 x 224.</summary>
    public static Tensor Pixels(IReadOnlyList<LabelledImage> batch)
    {
        var bytes = new byte[batch.Count * batch[0].Pixels.Length];
        for (var i = 0; i < batch.Count; i++) batch[i].Pixels.CopyTo(bytes, i * batch[i].Pixels.Length);
        using var raw = tensor(bytes, [batch.Count, 3, 224, 224]);
        return raw.to(ScalarType.Float32);
    }

    private static Tensor Concat(List<Tensor> parts)
    {
        if (parts.Count == 0) return zeros(0);
        var all = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }

    public void Dispose()
    {
        Features.Dispose();
        Activations?.Dispose();
    }
}
