using System.Runtime.InteropServices;

namespace Pipeline.Trainer.Onnx;

public sealed record OnnxNode(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttribute> Attributes);

public sealed record OnnxAttribute(string Name, long Int, float Float, IReadOnlyList<long> Ints, IReadOnlyList<float> Floats, string? Text);

public sealed record OnnxTensor(string Name, long[] Dims, float[] Data);

/// <summary>The parts of an ONNX graph the trainer reads: nodes in file order, float initializers, input and output names.</summary>
public sealed class OnnxGraph
{
    public List<OnnxNode> Nodes { get; } = [];
    public Dictionary<string, OnnxTensor> Initializers { get; } = [];
    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];

    public static OnnxGraph Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var model = new ProtoReader(bytes);
        while (model.Next(out var field, out var wire))
        {
            if (field == 7) return ReadGraph(model.ReadBytes());
            model.Skip(wire);
        }
        throw new InvalidDataException($"{path} holds no ONNX graph.");
    }

    private static OnnxGraph ReadGraph(ReadOnlySpan<byte> bytes)
    {
        var graph = new OnnxGraph();
        var r = new ProtoReader(bytes);
        while (r.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1: graph.Nodes.Add(ReadNode(r.ReadBytes())); break;
                case 5: var t = ReadTensor(r.ReadBytes()); graph.Initializers[t.Name] = t; break;
                case 11: graph.Inputs.Add(ReadValueInfoName(r.ReadBytes())); break;
                case 12: graph.Outputs.Add(ReadValueInfoName(r.ReadBytes())); break;
                default: r.Skip(wire); break;
            }
        }
        return graph;
    }

    private static OnnxNode ReadNode(ReadOnlySpan<byte> bytes)
    {
        var r = new ProtoReader(bytes);
        string name = "", op = "";
        List<string> inputs = [], outputs = [];
        Dictionary<string, OnnxAttribute> attributes = [];
        while (r.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1: inputs.Add(r.ReadString()); break;
                case 2: outputs.Add(r.ReadString()); break;
                case 3: name = r.ReadString(); break;
                case 4: op = r.ReadString(); break;
                case 5: var a = ReadAttribute(r.ReadBytes()); attributes[a.Name] = a; break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxNode(name, op, inputs, outputs, attributes);
    }

    private static OnnxAttribute ReadAttribute(ReadOnlySpan<byte> bytes)
    {
        var r = new ProtoReader(bytes);
        string name = "";
        string? text = null;
        long i = 0;
        float f = 0;
        List<long> ints = [];
        List<float> floats = [];
        while (r.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1: name = r.ReadString(); break;
                case 2: f = r.ReadFixed32Float(); break;
                case 3: i = r.ReadInt64(); break;
                case 4: text = r.ReadString(); break;
                case 7: r.ReadFloats(wire, floats); break;
                case 8: r.ReadInt64s(wire, ints); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxAttribute(name, i, f, ints, floats, text);
    }

    private static OnnxTensor ReadTensor(ReadOnlySpan<byte> bytes)
    {
        var r = new ProtoReader(bytes);
        string name = "";
        List<long> dims = [];
        List<float> floats = [];
        float[]? raw = null;
        long dataType = 1;
        while (r.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1: r.ReadInt64s(wire, dims); break;
                case 2: dataType = r.ReadInt64(); break;
                case 4: r.ReadFloats(wire, floats); break;
                case 8: name = r.ReadString(); break;
                case 9: raw = MemoryMarshal.Cast<byte, float>(r.ReadBytes()).ToArray(); break;
                default: r.Skip(wire); break;
            }
        }
        // Non-float initializers (shapes for Reshape, say) are kept empty: the trainer reads only weights.
        var data = dataType == 1 ? raw ?? floats.ToArray() : [];
        return new OnnxTensor(name, dims.ToArray(), data);
    }

    private static string ReadValueInfoName(ReadOnlySpan<byte> bytes)
    {
        var r = new ProtoReader(bytes);
        while (r.Next(out var field, out var wire))
        {
            if (field == 1) return r.ReadString();
            r.Skip(wire);
        }
        return "";
    }
}
