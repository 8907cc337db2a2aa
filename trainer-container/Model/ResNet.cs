using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Pipeline.Trainer.Model;

/// <summary>A ResNet basic block: two 3x3 convolutions with BatchNorm, and a 1x1 projection where the shape
/// changes.</summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    public readonly Conv2d conv1, conv2;
    public readonly BatchNorm2d bn1, bn2;
    public readonly Conv2d? downsample;
    public readonly BatchNorm2d? downsampleBn;

    public BasicBlock(string name, long input, long output, long stride) : base(name)
    {
        conv1 = Conv2d(input, output, 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(output);
        conv2 = Conv2d(output, output, 3, padding: 1, bias: false);
        bn2 = BatchNorm2d(output);
        if (stride != 1 || input != output)
        {
            downsample = Conv2d(input, output, 1, stride: stride, bias: false);
            downsampleBn = BatchNorm2d(output);
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var main = bn2.forward(conv2.forward(functional.relu(bn1.forward(conv1.forward(x)))));
        var shortcut = downsample is null ? x : downsampleBn!.forward(downsample.forward(x));
        return functional.relu(main + shortcut).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// ResNet18 as Microsoft.ML.DnnImageFeaturizer.ResNet18 ships it: blocks [2, 2, 2, 3], ending at global average
/// pooling.
/// Input: BGR 0-255 pixels; the ImageNet mean image is subtracted first, as ResNetPreprocess.onnx does.
/// </summary>
public sealed class ResNetBackbone : Module<Tensor, Tensor>
{
    public static readonly int[] Blocks = [2, 2, 2, 3];
    public static readonly int[] Widths = [64, 128, 256, 512];
    public const int Features = 512;
    /// <summary>Layer3's channels: its pooled output joins layer4's as the head's mid-level features.</summary>
    public const int MidFeatures = 256;

    public readonly Conv2d conv1;
    public readonly BatchNorm2d bn1;
    public readonly ModuleList<BasicBlock> layer1, layer2, layer3, layer4;

    public ResNetBackbone() : base("backbone")
    {
        conv1 = Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64);
        var stages = new ModuleList<BasicBlock>[4];
        long input = 64;
        for (var s = 0; s < 4; s++)
        {
            stages[s] = new ModuleList<BasicBlock>();
            for (var b = 0; b < Blocks[s]; b++)
            {
                stages[s].Add(new BasicBlock($"block{b}", input, Widths[s], b == 0 && s > 0 ? 2 : 1));
                input = Widths[s];
            }
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        register_buffer("mean", zeros(1, 3, 224, 224));
        RegisterComponents();
    }

    public Tensor MeanImage => get_buffer("mean")!;

    public IReadOnlyList<ModuleList<BasicBlock>> Stages => [layer1, layer2, layer3, layer4];

    /// <summary>From pixels to the output of stage <paramref name="stages"/> (0 = after the max-pool stem).</summary>
    public Tensor Bottom(Tensor pixels, int stages)
    {
        using var scope = NewDisposeScope();
        var x = functional.relu(bn1.forward(conv1.forward(pixels - MeanImage)));
        x = functional.max_pool2d(x, 3, 2, 1);
        for (var s = 0; s < stages; s++)
            foreach (var block in Stages[s]) x = block.forward(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// From the output of stage <paramref name="fromStage"/> to the 512 pooled features; with
    /// <paramref name="withLayer3"/>,
    /// layer3's 256 pooled features after them (<paramref name="fromStage"/> at most 3).
    /// </summary>
    public Tensor Top(Tensor x, int fromStage, bool withLayer3 = false)
    {
        using var scope = NewDisposeScope();
        var mid = withLayer3 && fromStage == 3 ? x : null;
        for (var s = fromStage; s < 4; s++)
        {
            foreach (var block in Stages[s]) x = block.forward(x);
            if (s == 2) mid = x;
        }
        var pooled = functional.adaptive_avg_pool2d(x, 1).flatten(1);
        if (withLayer3) pooled = cat([pooled, functional.adaptive_avg_pool2d(mid!, 1).flatten(1)], 1);
        return pooled.MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        return Top(Bottom(pixels, 4), 4).MoveToOuterDisposeScope();
    }
}
