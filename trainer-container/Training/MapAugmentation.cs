using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>
/// Augmentation of cached activation maps: each map mirrored at random and the batch shifted by up to one cell. It
/// gives fine-tuning varied inputs without another pass of the backbone's lower stages per view.
/// </summary>
public static class MapAugmentation
{
    /// <summary>N x C x H x W maps in, maps of the same shape out.</summary>
    public static Tensor Apply(Tensor maps, Random random)
    {
        using var scope = NewDisposeScope();
        var n = maps.shape[0];
        var coins = Enumerable.Range(0, (int)n).Select(_ => random.NextDouble() < 0.5).ToArray();
        var flip = tensor(coins, device: maps.device);
        var x = where(flip.view(n, 1, 1, 1), maps.flip(3), maps);
        var (dy, dx) = (random.Next(3), random.Next(3));
        var padded = nn.functional.pad(x, [1, 1, 1, 1], TorchSharp.PaddingModes.Replicate);
        return padded.narrow(2, dy, maps.shape[2]).narrow(3, dx, maps.shape[3]).contiguous().MoveToOuterDisposeScope();
    }
}
