using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Pipeline.Trainer.Model;

/// <summary>
/// Pretrained backbone, global average pooling of layer4 and of layer3, dropout, a dense layer over the labels,
/// softmax (or a sigmoid per label for multilabel datasets). The head sees layer3's mid-level features too; where
/// they do not help, their weights are zero.
/// </summary>
public sealed class Classifier : Module<Tensor, Tensor>
{
    public readonly ResNetBackbone backbone;
    public readonly Dropout dropout;
    public readonly Linear head;

    /// <param name="multilabel">Sigmoid outputs, each label on its own, in place of the softmax.</param>
    public Classifier(ResNetBackbone backbone, int labels, double dropoutRate, bool multilabel = false)
        : base("classifier")
    {
        Multilabel = multilabel;
        this.backbone = backbone;
        dropout = Dropout(dropoutRate);
        head = Linear(Inputs, labels);
        RegisterComponents();
    }

    /// <summary>The head's inputs: layer4's pooled features, then layer3's.</summary>
    public const int Inputs = ResNetBackbone.Features + ResNetBackbone.MidFeatures;

    public int Labels => (int)head.weight!.shape[0];

    /// <summary>A sigmoid per label (multilabel) rather than a softmax across them.</summary>
    public bool Multilabel { get; }

    /// <summary>Probabilities from logits: the model's last layer.</summary>
    public Tensor Output(Tensor logits) => Multilabel ? functional.sigmoid(logits) : functional.softmax(logits, 1);

    /// <summary>Logits from pooled features: the part trained on cached features.</summary>
    public Tensor HeadLogits(Tensor features) => head.forward(dropout.forward(features));

    public override Tensor forward(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        return HeadLogits(backbone.Top(backbone.Bottom(pixels, 3), 3, withLayer3: true)).MoveToOuterDisposeScope();
    }

    /// <summary>Probabilities in eval mode; with <paramref name="flipAverage"/>, the mean of the image's and its mirror
    /// image's.</summary>
    public Tensor Probabilities(Tensor pixels, bool flipAverage)
    {
        using var scope = NewDisposeScope();
        var p = Output(forward(pixels));
        if (flipAverage) p = (p + Output(forward(pixels.flip(3)))) / 2;
        return p.MoveToOuterDisposeScope();
    }
}
