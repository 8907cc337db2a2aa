using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Pipeline.Trainer.Model;

/// <summary>The seed's model: pretrained backbone, global average pooling, dropout, a dense layer over the labels, softmax.</summary>
public sealed class Classifier : Module<Tensor, Tensor>
{
    public readonly ResNetBackbone backbone;
    public readonly Dropout dropout;
    public readonly Linear head;

    public Classifier(ResNetBackbone backbone, int labels, double dropoutRate) : base("classifier")
    {
        this.backbone = backbone;
        dropout = Dropout(dropoutRate);
        head = Linear(ResNetBackbone.Features, labels);
        RegisterComponents();
    }

    public int Labels => (int)head.weight!.shape[0];

    /// <summary>Logits from pooled features: the part trained on cached features.</summary>
    public Tensor HeadLogits(Tensor features) => head.forward(dropout.forward(features));

    public override Tensor forward(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        return HeadLogits(backbone.forward(pixels)).MoveToOuterDisposeScope();
    }

    /// <summary>Probabilities in eval mode; with <paramref name="flipAverage"/>, the mean of the image's and its mirror image's.</summary>
    public Tensor Probabilities(Tensor pixels, bool flipAverage)
    {
        using var scope = NewDisposeScope();
        var p = functional.softmax(forward(pixels), 1);
        if (flipAverage) p = (p + functional.softmax(forward(pixels.flip(3)), 1)) / 2;
        return p.MoveToOuterDisposeScope();
    }
}
