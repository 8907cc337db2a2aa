using System.Collections.Concurrent;
using Pipeline.Core.Contract;
using Microsoft.ML.OnnxRuntime;
using Pipeline.Core.Scoring;
using Pipeline.Trainer.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace Pipeline.Trainer.Onnx;

/// <summary>
/// The ranges of the backbone's activations on a dataset's own training images, from which its int8 export takes
/// each tensor's scale and zero point (uint8, asymmetric; weights are int8 per output channel).
/// </summary>
public sealed class Int8Calibration
{
    private readonly Dictionary<string, (float Min, float Max)> ranges;
    private readonly ConcurrentDictionary<string, QuantizedWeights> quantized = new();

    public Int8Calibration(Dictionary<string, (float Min, float Max)> ranges) => this.ranges = ranges;

    public IReadOnlyDictionary<string, (float Min, float Max)> Ranges => ranges;

    /// <summary>The tensors an int8 export quantizes, as the float graph names them.</summary>
    public static IEnumerable<string> Points(ResNetBackbone backbone)
    {
        yield return "centred";
        yield return "stem_relu";
        for (var s = 0; s < 4; s++)
            for (var b = 0; b < backbone.Stages[s].Count; b++)
            {
                var name = $"layer{s + 1}_{b}";
                yield return $"{name}_conv1_relu";
                yield return $"{name}_conv2_bn";
                if (backbone.Stages[s][b].downsample is not null) yield return $"{name}_down_bn";
                yield return $"{name}_out";
            }
    }

    /// <summary>The calibration graph's output holding a point's least value over a batch.</summary>
    public static string MinOutput(string point) => point + "_min";

    /// <summary>The calibration graph's output holding a point's greatest value over a batch.</summary>
    public static string MaxOutput(string point) => point + "_max";

    /// <summary>Scale and zero point of a point; the pooled stem keeps the stem's.</summary>
    public (float Scale, byte ZeroPoint) Parameters(string point)
    {
        var (min, max) = ranges[point == "stem_pool" ? "stem_relu" : point];
        min = Math.Min(min, 0);
        max = Math.Max(max, 0);
        var scale = Math.Max((max - min) / 255f, 1e-8f);
        return (scale, (byte)Math.Clamp(Math.Round(-min / scale), 0, 255));
    }

    /// <summary>Runs the float backbone over batches of pixels, keeping each point's least and greatest.</summary>
    public static Int8Calibration Measure(ResNetBackbone backbone, IEnumerable<Tensor> batches)
    {
        using var calibrator = new Int8Calibrator(backbone);
        return calibrator.Measure(batches);
    }

    /// <summary>
    /// A convolution's weights with its BatchNorm folded in, as int8 per output channel, and its bias as int32 at the
    /// input's scale times each channel's. Made once per calibration and convolution, for the passes' graph and the
    /// export alike (0.3 s of a small set's export, here): the stages a calibration quantizes never train
    /// after it, as fine-tuning exports the stages it trains in float.
    /// </summary>
    public QuantizedWeights Quantize(string name, Conv2d conv, BatchNorm2d bn, float inputScale) =>
        quantized.GetOrAdd(name, _ =>
        {
            var (weights, bias, channels) = Fold(conv, bn);
            var perChannel = weights.Length / channels;
            var scales = new float[channels];
            var q = new sbyte[weights.Length];
            var qBias = new int[channels];
            for (var c = 0; c < channels; c++)
            {
                var span = weights.AsSpan(c * perChannel, perChannel);
                var max = 0f;
                foreach (var w in span) max = Math.Max(max, Math.Abs(w));
                scales[c] = Math.Max(max, 1e-8f) / 127;
                for (var i = 0; i < perChannel; i++)
                    q[c * perChannel + i] = (sbyte)Math.Clamp(Math.Round(span[i] / scales[c]), -127, 127);
                qBias[c] = (int)Math.Clamp(Math.Round(bias[c] / (inputScale * scales[c])), int.MinValue, int.MaxValue);
            }
            return new QuantizedWeights(q, scales, qBias);
        });

    /// <summary>A convolution with its BatchNorm folded in: weights (out x in x k x k, flat), bias, channels.</summary>
    public static (float[] Weights, float[] Bias, int Channels) Fold(Conv2d conv, BatchNorm2d bn)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var factor = bn.weight! / (bn.running_var! + bn.eps).sqrt();
        var weights = conv.weight! * factor.view(-1, 1, 1, 1);
        var bias = bn.bias! - bn.running_mean! * factor;
        return (weights.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray(),
            bias.to(ScalarType.Float32).cpu().data<float>().ToArray(), (int)factor.shape[0]);
    }
}

/// <summary>A convolution's int8 weights (out x in x k x k, flat), their scale per output channel, and its int32
/// bias.</summary>
public sealed record QuantizedWeights(sbyte[] Weights, float[] Scales, int[] Bias);

/// <summary>
/// The float backbone with every point an int8 export quantizes as an output, ready to measure their ranges. Made
/// apart from <see cref="Measure"/> so that a run can build it while its images are still decoding.
/// </summary>
public sealed class Int8Calibrator : IDisposable
{
    private readonly InferenceSession session;
    private readonly string[] points;

    public Int8Calibrator(ResNetBackbone backbone)
    {
        // No graph optimization: it runs a few batches, and building the session at basic level took 1.2 s more of
        // CPU than without (measured here) for batches as fast; the ranges differ in rounding only.
        using var options = CpuSessions.Options(GraphOptimizationLevel.ORT_DISABLE_ALL);
        session = new InferenceSession(OnnxExport.CalibrationGraph(backbone), options);
        points = Int8Calibration.Points(backbone).ToArray();
    }

    /// <summary>Runs batches of pixels through, keeping each point's least and greatest.</summary>
    public Int8Calibration Measure(IEnumerable<Tensor> batches)
    {
        var ranges = new Dictionary<string, (float Min, float Max)>();
        foreach (var batch in batches)
        {
            using var cpu = batch.cpu().contiguous();
            var input = new DenseTensor(cpu.data<float>().ToArray(), batch.shape.Select(d => (int)d).ToArray());
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(ModelFiles.InputName, input)]);
            var values = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().GetValue(0));
            foreach (var point in points)
            {
                var (min, max) = (values[Int8Calibration.MinOutput(point)], values[Int8Calibration.MaxOutput(point)]);
                ranges[point] = ranges.TryGetValue(point, out var seen)
                    ? (Math.Min(seen.Min, min), Math.Max(seen.Max, max))
                    : (min, max);
            }
        }
        return new Int8Calibration(ranges);
    }

    public void Dispose() => session.Dispose();
}
