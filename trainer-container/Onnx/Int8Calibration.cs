using System.Collections.Concurrent;
using Pipeline.Trainer.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

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

    /// <summary>Scale and zero point of a point; the pooled stem keeps the stem's.</summary>
    public (float Scale, byte ZeroPoint) Parameters(string point)
    {
        var (min, max) = ranges[point == "stem_pool" ? "stem_relu" : point];
        min = Math.Min(min, 0);
        max = Math.Max(max, 0);
        var scale = Math.Max((max - min) / 255f, 1e-8f);
        return (scale, (byte)Math.Clamp(Math.Round(-min / scale), 0, 255));
    }

    /// <summary>
    /// Runs the float backbone over batches of pixels in TorchSharp, keeping each point's least and greatest. The
    /// ranges match ONNX Runtime's float graph to six digits, without a graph and session of their own (which took
    /// 1.2 s of CPU beside a small set's decoding, measured here).
    /// </summary>
    public static Int8Calibration Measure(ResNetBackbone backbone, IEnumerable<Tensor> batches)
    {
        var ranges = new Dictionary<string, (float Min, float Max)>();
        using var _ = no_grad();
        foreach (var batch in batches)
            backbone.Observe(batch, (point, values) =>
            {
                var (min, max) = (values.min().item<float>(), values.max().item<float>());
                ranges[point] = ranges.TryGetValue(point, out var seen)
                    ? (Math.Min(seen.Min, min), Math.Max(seen.Max, max))
                    : (min, max);
            });
        return new Int8Calibration(ranges);
    }

    /// <summary>
    /// A convolution's weights with its BatchNorm folded in, as int8 per output channel, and its bias as int32 at the
    /// input's scale times each channel's. Made once per calibration and convolution, for the passes' graph and the
    /// export alike: the stages a calibration quantizes never train after it, as fine-tuning exports the stages it
    /// trains in float. Computed in TorchSharp, as the same float arithmetic a weight at a time in C# took 0.5 s of a
    /// small set's critical path (measured here).
    /// </summary>
    public QuantizedWeights Quantize(string name, Conv2d conv, BatchNorm2d bn, float inputScale) =>
        quantized.GetOrAdd(name, _ =>
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var factor = bn.weight! / (bn.running_var! + bn.eps).sqrt();
            var weights = (conv.weight! * factor.view(-1, 1, 1, 1)).to(ScalarType.Float32).cpu();
            var bias = (bn.bias! - bn.running_mean! * factor).to(ScalarType.Float32).cpu().data<float>().ToArray();
            // Each output channel's largest magnitude maps to 127; rounding is half to even, as Math.Round's.
            var channelScales = weights.abs().amax([1, 2, 3]).clamp_min(1e-8f) / 127;
            var q = (weights / channelScales.view(-1, 1, 1, 1)).round().clamp(-127, 127).to(ScalarType.Int8)
                .contiguous().data<sbyte>().ToArray();
            var scales = channelScales.data<float>().ToArray();
            var qBias = bias.Select((b, c) =>
                (int)Math.Clamp(Math.Round(b / (inputScale * scales[c])), int.MinValue, int.MaxValue)).ToArray();
            return new QuantizedWeights(q, scales, qBias);
        });
}

/// <summary>A convolution's int8 weights (out x in x k x k, flat), their scale per output channel, and its int32
/// bias.</summary>
public sealed record QuantizedWeights(sbyte[] Weights, float[] Scales, int[] Bias);
