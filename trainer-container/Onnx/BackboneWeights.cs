using Pipeline.Trainer.Model;
using Pipeline.Trainer.Onnx.Proto;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Onnx;

/// <summary>
/// Loads ResNet18.onnx and ResNetPreprocess.onnx (CNTK exports) into <see cref="ResNetBackbone"/>. Initializers are
/// found by walking the graph from each residual Add back to its block input, never by their order in the file
/// (CNTK writes a block's downsample branch before its main branch). A file that is not that graph fails with
/// <see cref="InvalidDataException"/>. The first run that can write beside them keeps the weights as TorchSharp saves
/// them (<see cref="ConvertedFile"/>); later runs read that instead: 0.1 s against 2 s of parsing and walking, on a
/// small set's critical path (measured here).
/// </summary>
public static class BackboneWeights
{
    public const string ConvertedFile = "ResNet18.weights";
    private const string NetworkFile = "ResNet18.onnx";
    private const string PrepFile = "ResNetPreprocess.onnx";

    public static string DefaultFolder => Path.Combine(AppContext.BaseDirectory, "backbone");

    public static ResNetBackbone Load(string? folder = null)
    {
        folder ??= DefaultFolder;
        var source = Source(folder);
        return ReadConverted(folder, source) ?? Convert(folder, source);
    }

    /// <summary>What the converted file was made from: both ONNX files' sizes and times; another copy converts
    /// again.</summary>
    private static string Source(string folder) => string.Join(';', new[] { NetworkFile, PrepFile }
        .Select(f => new FileInfo(Path.Combine(folder, f)))
        .Select(f => f.Exists ? $"{f.Name}:{f.Length}:{f.LastWriteTimeUtc.Ticks}" : $"{f.Name}:absent"));

    /// <summary>The converted weights, or null where there are none from these ONNX files (or they do not
    /// read).</summary>
    private static ResNetBackbone? ReadConverted(string folder, string source)
    {
        var path = Path.Combine(folder, ConvertedFile);
        if (!File.Exists(path)) return null;
        var backbone = new ResNetBackbone();
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            if (reader.ReadString() != source) throw new InvalidDataException("made from other ONNX files");
            backbone.load(reader, strict: true);
            backbone.eval();
            return backbone;
        }
        catch (Exception)
        {
            // Stale or damaged, however it fails: the ONNX files are the truth, and the file is written again.
            backbone.Dispose();
            return null;
        }
    }

    private static ResNetBackbone Convert(string folder, string source)
    {
        var backbone = FromOnnx(folder);
        var path = Path.Combine(folder, ConvertedFile);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            // Written aside and renamed: a run reading it at the same time sees the whole file or none.
            using (var writer = new BinaryWriter(File.Create(temporary)))
            {
                writer.Write(source);
                backbone.save(writer);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only folder (an image's app folder) or a full disk: each run reads the ONNX files.
            try { File.Delete(temporary); }
            catch (Exception gone) when (gone is IOException or UnauthorizedAccessException) { }
        }
        return backbone;
    }

    private static ResNetBackbone FromOnnx(string folder)
    {
        var networkPath = Path.Combine(folder, NetworkFile);
        var prepPath = Path.Combine(folder, PrepFile);
        var network = OnnxFile.ReadGraph(networkPath);
        var prep = OnnxFile.ReadGraph(prepPath);
        var backbone = new ResNetBackbone();
        try
        {
            using var _ = no_grad();
            Walk(backbone, new Graph(network));
            var mean = prep.Initializer.Single(t => t.Dims.SequenceEqual([1L, 3, 224, 224]));
            backbone.MeanImage.copy_(tensor(OnnxFile.Floats(mean), [1, 3, 224, 224]));
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            // A corrupt file can still parse; it is then not the graph this walk knows.
            backbone.Dispose();
            throw new InvalidDataException($"{networkPath} or {prepPath} is not the ResNet18 the trainer reads: " +
                e.Message, e);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
        backbone.eval();
        return backbone;
    }

    /// <summary>Who produces and who consumes each value, and the initializers by name.</summary>
    private sealed class Graph(GraphProto graph)
    {
        public IList<NodeProto> Nodes { get; } = graph.Node;
        public Dictionary<string, TensorProto> Initializers { get; } = graph.Initializer.ToDictionary(t => t.Name);
        public string Input { get; } = graph.Input.Select(i => i.Name)
            .First(i => !graph.Initializer.Any(t => t.Name == i));
        public Dictionary<string, NodeProto> Producer { get; } =
            graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        public ILookup<string, NodeProto> Consumers { get; } =
            graph.Node.SelectMany(n => n.Input.Select(i => (i, n))).ToLookup(p => p.i, p => p.n);
    }

    private static void Walk(ResNetBackbone backbone, Graph graph)
    {
        var producer = graph.Producer;
        var consumers = graph.Consumers;

        // Stem: the convolution reading the graph input, its BatchNorm, then the max-pool behind the ReLU.
        var stemConv = graph.Nodes.Single(n => n.OpType == "Conv" && n.Input[0] == graph.Input);
        var stemBn = consumers[stemConv.Output[0]].Single();
        Copy(graph, stemConv, stemBn, backbone.conv1, backbone.bn1);
        var blockInput = consumers[consumers[stemBn.Output[0]].Single().Output[0]]
            .Single(n => n.OpType == "MaxPool").Output[0];

        var blocks = backbone.Stages.SelectMany(s => s).ToList();
        var adds = graph.Nodes.Where(n => n.OpType == "Add").ToList();
        if (adds.Count != blocks.Count)
            throw new InvalidDataException($"Expected {blocks.Count} residual blocks, found {adds.Count}.");
        for (var b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            (NodeProto conv, NodeProto bn)? main = null, shortcut = null;
            foreach (var input in adds[b].Input)
            {
                if (input == blockInput) continue; // identity shortcut
                var bn = producer[input];
                var conv = producer[bn.Input[0]];
                if (conv.Input[0] == blockInput) shortcut = (conv, bn);
                else main = (conv, bn);
            }
            if (main is null) throw new InvalidDataException($"Block {b}: no main branch found.");
            var relu = producer[main.Value.conv.Input[0]];
            var bn1 = producer[relu.Input[0]];
            var conv1 = producer[bn1.Input[0]];
            if (conv1.Input[0] != blockInput)
                throw new InvalidDataException($"Block {b}: the main branch does not start at the block input.");
            Copy(graph, conv1, bn1, block.conv1, block.bn1);
            Copy(graph, main.Value.conv, main.Value.bn, block.conv2, block.bn2);
            if ((shortcut is null) != (block.downsample is null))
                throw new InvalidDataException($"Block {b}: the shortcut does not match ResNet18's.");
            if (shortcut is { } s) Copy(graph, s.conv, s.bn, block.downsample!, block.downsampleBn!);
            blockInput = consumers[adds[b].Output[0]].Single(n => n.OpType == "Relu").Output[0];
        }
    }

    private static void Copy(Graph graph, NodeProto conv, NodeProto bn, Conv2d toConv, BatchNorm2d toBn)
    {
        Set(toConv.weight!, graph.Initializers[conv.Input[1]]);
        // BatchNormalization inputs: X, scale, bias, mean, variance.
        Set(toBn.weight!, graph.Initializers[bn.Input[1]]);
        Set(toBn.bias!, graph.Initializers[bn.Input[2]]);
        Set(toBn.running_mean!, graph.Initializers[bn.Input[3]]);
        Set(toBn.running_var!, graph.Initializers[bn.Input[4]]);
    }

    private static void Set(Tensor target, TensorProto source)
    {
        if (!target.shape.SequenceEqual(source.Dims))
            throw new InvalidDataException($"{source.Name}: shape [{string.Join(",", source.Dims)}] does not fit " +
                $"[{string.Join(",", target.shape)}].");
        using var values = tensor(OnnxFile.Floats(source), target.shape);
        target.copy_(values);
    }
}
