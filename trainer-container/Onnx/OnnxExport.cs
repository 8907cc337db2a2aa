using Pipeline.Core.Contract;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Pipeline.Core.Images;
using Pipeline.Core.Scoring;
using Pipeline.Trainer.Model;
using Pipeline.Trainer.Onnx.Proto;
using TorchSharp.Modules;
using static TorchSharp.torch;
using AttributeType = Pipeline.Trainer.Onnx.Proto.AttributeProto.Types.AttributeType;
using DataType = Pipeline.Trainer.Onnx.Proto.TensorProto.Types.DataType;
using Dimension = Pipeline.Trainer.Onnx.Proto.TensorShapeProto.Types.Dimension;

namespace Pipeline.Trainer.Onnx;

/// <summary>
/// Writes a <see cref="Classifier"/> as model.onnx (opset 13, dynamic batch): pixels in (N x 3 x 224 x 224, BGR,
/// 0-255),
/// probabilities out (N x labels). The mean image, the mirror-image average and softmax are inside, so a scorer
/// needs only <see cref="Preprocessing"/>.
/// </summary>
public static class OnnxExport
{
    public static void Write(Classifier model, bool flipAverage, string path) =>
        File.WriteAllBytes(path, ToBytes(model, flipAverage));

    /// <param name="int8">Activation ranges: the backbone's stages below <paramref name="int8Stages"/> go as int8
    /// (QDQ).</param>
    public static byte[] ToBytes(Classifier model, bool flipAverage, Int8Calibration? int8 = null, int int8Stages = 4)
    {
        var g = new GraphWriter();
        var backbone = model.backbone;
        var x = ModelFiles.InputName;
        if (flipAverage)
        {
            g.Initializer("flip_index", [Preprocessing.Size],
                Enumerable.Range(0, Preprocessing.Size).Select(i => (long)(Preprocessing.Size - 1 - i)).ToArray());
            g.Node("Gather", [x, "flip_index"], ["flipped"], a => a.Int("axis", 3));
            g.Node("Concat", [x, "flipped"], ["both"], a => a.Int("axis", 0));
            x = "both";
        }
        x = Backbone(g, backbone, x, tapStage: null, out _, int8, int8Stages);
        g.Initializer("head_weight", model.head.weight!);
        g.Initializer("head_bias", model.head.bias!);
        g.Node("Gemm", [x, "head_weight", "head_bias"], ["logits"], a => a.Int("transB", 1));
        if (flipAverage)
        {
            Output(g, model, "both_probabilities");
            g.Initializer("pair_shape", [3], [2L, -1, model.Labels]);
            g.Node("Reshape", ["both_probabilities", "pair_shape"], ["pairs"]);
            g.Node("ReduceMean", ["pairs"], [ModelFiles.OutputName], a => a.Ints("axes", 0).Int("keepdims", 0));
        }
        else Output(g, model, ModelFiles.OutputName);
        return g.Model([(ModelFiles.OutputName, model.Labels)]);
    }

    /// <summary>The last layer: softmax across the labels, or for a multilabel model a sigmoid each.</summary>
    private static void Output(GraphWriter g, Classifier model, string output)
    {
        if (model.Multilabel) g.Node("Sigmoid", ["logits"], [output]);
        else g.Node("Softmax", ["logits"], [output], a => a.Int("axis", 1));
    }

    public const string FeaturesOutput = "features";
    public const string ActivationsOutput = "activations";

    /// <summary>
    /// The frozen backbone alone, for the trainer's cached passes under ONNX Runtime (faster than libtorch on CPUs):
    /// pixels in; pooled features out, and the activations entering stage <paramref name="activationStage"/> when
    /// given.
    /// </summary>
    public static byte[] FeatureExtractor(ResNetBackbone backbone, int? activationStage, Int8Calibration? int8 = null)
    {
        var g = new GraphWriter();
        var pooled = Backbone(g, backbone, ModelFiles.InputName, activationStage, out var tap, int8);
        g.Node("Identity", [pooled], [FeaturesOutput]);
        List<(string, long)> outputs = [(FeaturesOutput, Classifier.Inputs)];
        if (tap is not null)
        {
            g.Node("Identity", [tap], [ActivationsOutput]);
            outputs.Add((ActivationsOutput, -1));
        }
        return g.Model(outputs);
    }

    /// <summary>
    /// The float backbone with every tensor that an int8 export quantizes as an output, for measuring their ranges on
    /// training images (<see cref="Int8Calibration"/>).
    /// </summary>
    public static byte[] CalibrationGraph(ResNetBackbone backbone)
    {
        var g = new GraphWriter();
        Backbone(g, backbone, ModelFiles.InputName, null, out _);
        // Each point's least and greatest over the batch, reduced in the graph: the points themselves stay
        // intermediate, so ONNX Runtime reuses their buffers instead of handing out about 12 MB an image.
        var outputs = new List<(string, long)>();
        foreach (var point in Int8Calibration.Points(backbone))
        {
            g.Node("ReduceMin", [point], [Int8Calibration.MinOutput(point)], a => a.Int("keepdims", 0));
            g.Node("ReduceMax", [point], [Int8Calibration.MaxOutput(point)], a => a.Int("keepdims", 0));
            outputs.Add((Int8Calibration.MinOutput(point), -1));
            outputs.Add((Int8Calibration.MaxOutput(point), -1));
        }
        return g.Model(outputs);
    }

    /// <summary>
    /// Mean subtraction, stem, four stages, global average pooling; returns the pooled features' name. With
    /// <paramref name="int8"/>, the stem and the stages below <paramref name="int8Stages"/> are written as QDQ int8
    /// (BatchNorm folded, per-channel weights); ONNX Runtime fuses them into integer convolutions and additions.
    /// </summary>
    private static string Backbone(GraphWriter g, ResNetBackbone backbone, string input, int? tapStage, out string? tap,
        Int8Calibration? int8 = null, int int8Stages = 4)
    {
        tap = null;
        g.Initializer("mean", backbone.MeanImage);
        g.Node("Sub", [input, "mean"], ["centred"]);
        var x = int8 is null ? "centred" : g.QuantDequant("centred", int8.Parameters("centred"));
        x = g.ConvBn("stem", x, backbone.conv1, backbone.bn1, relu: true, int8);
        g.Node("MaxPool", [x], ["stem_pool"],
            a => a.Ints("kernel_shape", 3, 3).Ints("strides", 2, 2).Ints("pads", 1, 1, 1, 1));
        // Max-pooling keeps the scale: its output is quantized as its input was.
        x = int8 is null ? "stem_pool" : g.QuantDequant("stem_pool", int8.Parameters("stem_relu"));
        for (var s = 0; s < 4; s++)
        {
            if (s == tapStage) tap = x;
            var q = s < int8Stages ? int8 : null;
            for (var b = 0; b < backbone.Stages[s].Count; b++)
            {
                var block = backbone.Stages[s][b];
                var name = $"layer{s + 1}_{b}";
                var main = g.ConvBn($"{name}_conv1", x, block.conv1, block.bn1, relu: true, q);
                main = g.ConvBn($"{name}_conv2", main, block.conv2, block.bn2, relu: false, q);
                var shortcut = block.downsample is null
                    ? x
                    : g.ConvBn($"{name}_down", x, block.downsample, block.downsampleBn!, relu: false, q);
                g.Node("Add", [main, shortcut], [$"{name}_sum"]);
                g.Node("Relu", [$"{name}_sum"], [$"{name}_out"]);
                x = q is null ? $"{name}_out" : g.QuantDequant($"{name}_out", q.Parameters($"{name}_out"));
            }
            if (s == 2)
            {
                g.Node("GlobalAveragePool", [x], ["mid_pooled"]);
                g.Node("Flatten", ["mid_pooled"], ["mid_features"], a => a.Int("axis", 1));
            }
        }
        g.Node("GlobalAveragePool", [x], ["pooled"]);
        g.Node("Flatten", ["pooled"], ["pooled_features"], a => a.Int("axis", 1));
        // The head's inputs: layer4's pooled features, then layer3's (Classifier.Inputs).
        g.Node("Concat", ["pooled_features", "mid_features"], ["head_inputs"], a => a.Int("axis", 1));
        return "head_inputs";
    }

    private sealed class GraphWriter
    {
        private readonly GraphProto graph = new() { Name = "classifier" };
        private int nodes;

        public void Node(string op, string[] inputs, string[] outputs, Func<Attributes, Attributes>? attributes = null)
        {
            var node = new NodeProto { Name = $"{op}_{nodes++}", OpType = op };
            node.Input.Add(inputs);
            node.Output.Add(outputs);
            if (attributes is not null) node.Attribute.Add(attributes(new Attributes()).Items);
            graph.Node.Add(node);
        }

        public string ConvBn(string name, string input, Conv2d conv, BatchNorm2d bn, bool relu, Int8Calibration? int8)
        {
            var k = conv.weight!.shape[2];
            var stride = conv.stride[0];
            var pad = conv.padding is { } p ? p[0] : 0;
            if (int8 is not null) return QuantizedConv(name, input, conv, bn, relu, int8, k, stride, pad);
            Initializer($"{name}_w", conv.weight!);
            Node("Conv", [input, $"{name}_w"], [$"{name}_conv"],
                a => a.Ints("kernel_shape", k, k).Ints("strides", stride, stride).Ints("pads", pad, pad, pad, pad));
            Initializer($"{name}_scale", bn.weight!);
            Initializer($"{name}_bias", bn.bias!);
            Initializer($"{name}_mean", bn.running_mean!);
            Initializer($"{name}_var", bn.running_var!);
            Node("BatchNormalization",
                [$"{name}_conv", $"{name}_scale", $"{name}_bias", $"{name}_mean", $"{name}_var"], [$"{name}_bn"],
                a => a.Float("epsilon", (float)bn.eps));
            if (!relu) return $"{name}_bn";
            Node("Relu", [$"{name}_bn"], [$"{name}_relu"]);
            return $"{name}_relu";
        }

        /// <summary>Quantize then dequantize a tensor (uint8): the QDQ pair that marks where integer arithmetic may
        /// run.</summary>
        public string QuantDequant(string name, (float Scale, byte ZeroPoint) q)
        {
            Initializer($"{name}_qscale", [], [q.Scale]);
            Initializer($"{name}_qzero", [], [q.ZeroPoint]);
            Node("QuantizeLinear", [name, $"{name}_qscale", $"{name}_qzero"], [$"{name}_q"]);
            Node("DequantizeLinear", [$"{name}_q", $"{name}_qscale", $"{name}_qzero"], [$"{name}_dq"]);
            return $"{name}_dq";
        }

        /// <summary>
        /// Conv with BatchNorm folded in: int8 weights per output channel, an int32 bias at the input's scale times the
        /// weight's, the output (after ReLU) quantized at its measured range. <paramref name="input"/> must be a DQ
        /// output.
        /// </summary>
        private string QuantizedConv(string name, string input, Conv2d conv, BatchNorm2d bn, bool relu,
            Int8Calibration int8, long k, long stride, long pad)
        {
            var inputScale = int8.Parameters(input.EndsWith("_dq") ? input[..^3] : input).Scale;
            var (q, scales, qBias) = int8.Quantize(name, conv, bn, inputScale);
            var channels = scales.Length;
            var dims = conv.weight!.shape;
            Initializer($"{name}_wq", dims, q);
            Initializer($"{name}_wscale", [channels], scales);
            Initializer($"{name}_wzero", [channels], new sbyte[channels]);
            Node("DequantizeLinear", [$"{name}_wq", $"{name}_wscale", $"{name}_wzero"], [$"{name}_w"],
                a => a.Int("axis", 0));
            Initializer($"{name}_bq", [channels], qBias);
            Initializer($"{name}_bscale", [channels], scales.Select(w => w * inputScale).ToArray());
            Initializer($"{name}_bzero", [channels], new int[channels]);
            Node("DequantizeLinear", [$"{name}_bq", $"{name}_bscale", $"{name}_bzero"], [$"{name}_b"],
                a => a.Int("axis", 0));
            var output = relu ? $"{name}_relu" : $"{name}_bn";
            Node("Conv", [input, $"{name}_w", $"{name}_b"], [relu ? $"{name}_conv" : output],
                a => a.Ints("kernel_shape", k, k).Ints("strides", stride, stride).Ints("pads", pad, pad, pad, pad));
            if (relu) Node("Relu", [$"{name}_conv"], [output]);
            return QuantDequant(output, int8.Parameters(output));
        }

        public void Initializer(string name, long[] dims, float[] values) =>
            AddTensor(name, dims, DataType.Float, ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())));

        public void Initializer(string name, long[] dims, byte[] values) =>
            AddTensor(name, dims, DataType.Uint8, ByteString.CopyFrom(values));

        public void Initializer(string name, long[] dims, sbyte[] values) =>
            AddTensor(name, dims, DataType.Int8, ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())));

        public void Initializer(string name, long[] dims, int[] values) =>
            AddTensor(name, dims, DataType.Int32, ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())));

        /// <summary>
        /// The weights are copied once, out of the tensor into the array the initializer wraps; serializing the model
        /// is the second and last copy.
        /// </summary>
        public void Initializer(string name, Tensor value)
        {
            using var cpu = value.detach().to(ScalarType.Float32).cpu().contiguous();
            AddTensor(name, cpu.shape, DataType.Float, UnsafeByteOperations.UnsafeWrap(cpu.bytes.ToArray()));
        }

        public void Initializer(string name, long[] dims, long[] values) =>
            AddTensor(name, dims, DataType.Int64, ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())));

        private void AddTensor(string name, long[] dims, DataType type, ByteString raw)
        {
            var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = raw };
            tensor.Dims.Add(dims);
            graph.Initializer.Add(tensor);
        }

        /// <param name="outputs">Name and size of the last dimension of each output; -1 leaves the shape open.</param>
        public byte[] Model(IEnumerable<(string Name, long Size)> outputs)
        {
            graph.Input.Add(ValueInfo(ModelFiles.InputName, Batch, Dim(3), Dim(Preprocessing.Size),
                Dim(Preprocessing.Size)));
            foreach (var (name, size) in outputs)
                graph.Output.Add(size < 0 ? UnshapedValueInfo(name) : ValueInfo(name, Batch, Dim(size)));
            var model = new ModelProto { IrVersion = 7, ProducerName = "pipeline-trainer", Graph = graph };
            // IR version 7 goes with opset 13 of the default domain.
            model.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
            return model.ToByteArray();
        }

        private static ValueInfoProto UnshapedValueInfo(string name) => new()
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float } },
        };

        private static Dimension Batch => new() { DimParam = "batch" };

        private static Dimension Dim(long value) => new() { DimValue = value };

        private static ValueInfoProto ValueInfo(string name, params Dimension[] dims)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(dims);
            var tensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape };
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
        }
    }

    private sealed class Attributes
    {
        public List<AttributeProto> Items { get; } = [];

        public Attributes Int(string name, long value)
        {
            Items.Add(new AttributeProto { Name = name, Type = AttributeType.Int, I = value });
            return this;
        }

        public Attributes Float(string name, float value)
        {
            Items.Add(new AttributeProto { Name = name, Type = AttributeType.Float, F = value });
            return this;
        }

        public Attributes Ints(string name, params long[] values)
        {
            var attribute = new AttributeProto { Name = name, Type = AttributeType.Ints };
            attribute.Ints.Add(values);
            Items.Add(attribute);
            return this;
        }
    }
}
