using Pipeline.Trainer.Model;
using Pipeline.Trainer.Onnx;

namespace Pipeline.Trainer.Training;

/// <summary>
/// The backbone read from its ONNX files, its int8 ranges measured on a sample of the training images, and the session
/// of its passes: made on a thread of their own while the rest of the images decode, as none of it needs more than the
/// sample, which decodes first (a small set's time to a model fell by ... s, measured here).
/// </summary>
internal sealed class PreparedBackbone : IDisposable
{
    private bool disposed;

    public required ResNetBackbone Backbone { get; init; }

    /// <summary>The frozen backbone's passes, int8 where the device is the CPU and int8 was asked for.</summary>
    public required FeatureExtractor Extractor { get; init; }

    /// <param name="int8">Int8 passes asked for: they run where the device is the CPU.</param>
    /// <param name="activationStage">The stage whose input the passes also return, for fine-tuning; null for
    /// none.</param>
    /// <param name="sample">The training images to calibrate on; waited for only when the passes are int8.</param>
    public static Task<PreparedBackbone> Start(bool int8, int? activationStage,
        Task<IReadOnlyList<LabelledImage>> sample, CancellationToken ct) => Task.Factory.StartNew(() =>
    {
        // The first touch loads libtorch. A thread of its own: it waits for the sample, which the thread pool decodes.
        var onCpu = TrainingDevice.Current.type == TorchSharp.DeviceType.CPU;
        var backbone = BackboneWeights.Load();
        try
        {
            var ranges = int8 && onCpu ? Calibrate(backbone, sample.WaitAsync(ct).GetAwaiter().GetResult()) : null;
            return new PreparedBackbone
            {
                Backbone = backbone, Extractor = new FeatureExtractor(backbone, activationStage, onCpu, ranges),
            };
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Waits for a preparation the run no longer needs (its images were refused) and frees it.</summary>
    public static void Abandon(Task<PreparedBackbone> preparing)
    {
        try
        {
            using var prepared = preparing.GetAwaiter().GetResult();
            prepared.Backbone.Dispose();
        }
        catch (Exception) { } // the run is already failing for its own reason: that one is reported
    }

    private static Int8Calibration Calibrate(ResNetBackbone backbone, IReadOnlyList<LabelledImage> sample)
    {
        // Batches of 4: small batches stay in cache (TorchSharp's 16 images took 0.9 s in 4s, 1.2 s in 8s and 1.6 s
        // in one batch, measured here).
        var batches = sample.Chunk(4).Select(b => FeatureCache.Pixels(b)).ToList();
        try { return Int8Calibration.Measure(backbone, batches); }
        finally { batches.ForEach(b => b.Dispose()); }
    }

    /// <summary>Frees the passes' session, once; the backbone belongs to the model built on it.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Extractor.Dispose();
    }
}
