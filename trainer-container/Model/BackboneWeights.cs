using Pipeline.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Model;

/// <summary>
/// Loads ResNet18.onnx and ResNetPreprocess.onnx (CNTK exports) into <see cref="ResNetBackbone"/>. Initializers are
/// found by walking the graph from each residual Add back to its block input, never by their order in the file
/// (CNTK writes a block's downsample branch before its main branch).
/// </summary>
public static class BackboneWeights
{
    public static string DefaultFolder => Path.Combine(AppContext.BaseDirectory, "backbone");

    public static ResNetBackbone Load(string? folder = null)
    {
        folder ??= DefaultFolder;
        var graph = OnnxGraph.Load(Path.Combine(folder, "ResNet18.onnx"));
        var prep = OnnxGraph.Load(Path.Combine(folder, "ResNetPreprocess.onnx"));
        var backbone = new ResNetBackbone();
        using var _ = no_grad();
        Load(backbone, graph);
        var mean = prep.Initializers.Values.Single(t => t.Dims.SequenceEqual([1L, 3, 224, 224]));
        backbone.MeanImage.copy_(tensor(mean.Data, [1, 3, 224, 224]));
        backbone.eval();
        return backbone;
    }

    private static void Load(ResNetBackbone backbone, OnnxGraph graph)
    {
        var producer = graph.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var consumers = graph.Nodes.SelectMany(n => n.Inputs.Select(i => (i, n))).ToLookup(p => p.i, p => p.n);

        // Stem: the convolution reading the graph input, its BatchNorm, then the max-pool behind the ReLU.
        var stemConv = graph.Nodes.Single(n => n.OpType == "Conv" && n.Inputs[0] == graph.Inputs.First(i => !graph.Initializers.ContainsKey(i)));
        var stemBn = consumers[stemConv.Outputs[0]].Single();
        Copy(graph, stemConv, stemBn, backbone.conv1, backbone.bn1);
        var blockInput = consumers[consumers[stemBn.Outputs[0]].Single().Outputs[0]].Single(n => n.OpType == "MaxPool").Outputs[0];

        var blocks = backbone.Stages.SelectMany(s => s).ToList();
        var adds = graph.Nodes.Where(n => n.OpType == "Add").ToList();
        if (adds.Count != blocks.Count) throw new InvalidDataException($"Expected {blocks.Count} residual blocks, found {adds.Count}.");
        for (var b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            (OnnxNode conv, OnnxNode bn)? main = null, shortcut = null;
            foreach (var input in adds[b].Inputs)
            {
                if (input == blockInput) continue; // identity shortcut
                var bn = producer[input];
                var conv = producer[bn.Inputs[0]];
                if (conv.Inputs[0] == blockInput) shortcut = (conv, bn);
                else main = (conv, bn);
            }
            if (main is null) throw new InvalidDataException($"Block {b}: no main branch found.");
            var relu = producer[main.Value.conv.Inputs[0]];
            var bn1 = producer[relu.Inputs[0]];
            var conv1 = producer[bn1.Inputs[0]];
            if (conv1.Inputs[0] != blockInput) throw new InvalidDataException($"Block {b}: the main branch does not start at the block input.");
            Copy(graph, conv1, bn1, block.conv1, block.bn1);
            Copy(graph, main.Value.conv, main.Value.bn, block.conv2, block.bn2);
            if ((shortcut is null) != (block.downsample is null)) throw new InvalidDataException($"Block {b}: the shortcut does not match ResNet18's.");
            if (shortcut is { } s) Copy(graph, s.conv, s.bn, block.downsample!, block.downsampleBn!);
            blockInput = consumers[adds[b].Outputs[0]].Single(n => n.OpType == "Relu").Outputs[0];
        }
    }

    private static void Copy(OnnxGraph graph, OnnxNode conv, OnnxNode bn, Conv2d toConv, BatchNorm2d toBn)
    {
        Set(toConv.weight!, graph.Initializers[conv.Inputs[1]]);
        // BatchNormalization inputs: X, scale, bias, mean, variance.
        Set(toBn.weight!, graph.Initializers[bn.Inputs[1]]);
        Set(toBn.bias!, graph.Initializers[bn.Inputs[2]]);
        Set(toBn.running_mean!, graph.Initializers[bn.Inputs[3]]);
        Set(toBn.running_var!, graph.Initializers[bn.Inputs[4]]);
    }

    private static void Set(Tensor target, OnnxTensor source)
    {
        if (!target.shape.SequenceEqual(source.Dims))
            throw new InvalidDataException($"{source.Name}: shape [{string.Join(",", source.Dims)}] does not fit [{string.Join(",", target.shape)}].");
        target.copy_(tensor(source.Data, target.shape));
    }
}
