using Pipeline.Trainer.Model;
using Pipeline.Trainer.Onnx;

namespace Pipeline.Trainer.Training;

/// <summary>
/// The backbone read from its ONNX files and, for int8 passes, the float graph that measures its ranges: prepared on
/// a second core while the images decode on the first, as neither needs the other until calibration (about 5 s of a
/// small set's 20, measured here).
/// </summary>
internal sealed class PreparedBackbone : IDisposable
{
    public required ResNetBackbone Backbone { get; init; }

    /// <summary>Null where the passes run in float (a GPU, or <c>--float</c>).</summary>
    public Int8Calibrator? Calibrator { get; init; }

    /// <param name="int8">Int8 passes asked for: they run where the device is the CPU.</param>
    public static Task<PreparedBackbone> Start(bool int8, CancellationToken ct) => Task.Run(() =>
    {
        int8 &= TrainingDevice.Current.type == TorchSharp.DeviceType.CPU; // the first touch loads libtorch
        var backbone = BackboneWeights.Load();
        try
        {
            var calibrator = int8 ? new Int8Calibrator(backbone) : null;
            return new PreparedBackbone { Backbone = backbone, Calibrator = calibrator };
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }, ct);

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

    /// <summary>Frees the calibrator; the backbone belongs to the model built on it.</summary>
    public void Dispose() => Calibrator?.Dispose();
}
