using Pipeline.Core.Contract;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Pipeline.Trainer.Training;

/// <summary>
/// Keras ImageDataGenerator's geometric augmentations (rotation, shift, shear, zoom, horizontal flip) as one batched
/// affine_grid + grid_sample, plus brightness, contrast and saturation jitter. Parameters come from a seeded
/// <see cref="Random"/>, so the same seed gives the same views. Edges repeat the border, like Keras' 'nearest' fill.
/// </summary>
public sealed class Augmentation(AugmentationOptions options, Random random)
{
    /// <summary>Augments a batch of float BGR 0-255 pixels (N x 3 x H x W); returns a new tensor.</summary>
    public Tensor Apply(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var n = (int)pixels.shape[0];
        var theta = new float[n * 6];
        var colour = new float[n * 3];
        for (var i = 0; i < n; i++)
        {
            var rotation = Radians(Uniform(options.RotationDegrees));
            var shear = Radians(Uniform(options.ShearDegrees));
            var zx = 1 + Uniform(options.Zoom);
            var zy = 1 + Uniform(options.Zoom);
            var flip = options.HorizontalFlip && random.NextDouble() < 0.5 ? -1.0 : 1.0;
            // Output coordinates to input coordinates (normalised -1..1): rotate, shear, then scale.
            var (cos, sin) = (Math.Cos(rotation), Math.Sin(rotation));
            var a = new[,] { { cos, -sin }, { sin, cos } };
            var s = new[,] { { 1, -Math.Sin(shear) }, { 0, Math.Cos(shear) } };
            var m = Multiply(a, s);
            theta[i * 6 + 0] = (float)(m[0, 0] * zx * flip);
            theta[i * 6 + 1] = (float)(m[0, 1] * zy);
            theta[i * 6 + 2] = (float)(2 * Uniform(options.WidthShift));
            theta[i * 6 + 3] = (float)(m[1, 0] * zx * flip);
            theta[i * 6 + 4] = (float)(m[1, 1] * zy);
            theta[i * 6 + 5] = (float)(2 * Uniform(options.HeightShift));
            colour[i * 3 + 0] = (float)(1 + Uniform(options.Brightness));
            colour[i * 3 + 1] = (float)(1 + Uniform(options.Contrast));
            colour[i * 3 + 2] = (float)(1 + Uniform(options.Saturation));
        }
        var grid = F.affine_grid(tensor(theta, [n, 2, 3], device: pixels.device),
            [n, 3, pixels.shape[2], pixels.shape[3]], align_corners: false);
        var x = F.grid_sample(pixels, grid, mode: GridSampleMode.Bilinear, padding_mode: GridSamplePaddingMode.Border,
            align_corners: false);

        var c = tensor(colour, [n, 3, 1, 1], device: pixels.device);
        x = x * c[.., 0..1];
        // BGR channel order: grey = 0.114 B + 0.587 G + 0.299 R.
        var grey = (x[.., 0..1] * 0.114f + x[.., 1..2] * 0.587f + x[.., 2..3] * 0.299f);
        var mean = grey.mean([1, 2, 3], keepdim: true);
        x = (x - mean) * c[.., 1..2] + mean;
        grey = (x[.., 0..1] * 0.114f + x[.., 1..2] * 0.587f + x[.., 2..3] * 0.299f);
        x = (x - grey) * c[.., 2..3] + grey;
        return x.clamp(0, 255).MoveToOuterDisposeScope();
    }

    private double Uniform(double range) => range <= 0 ? 0 : (random.NextDouble() * 2 - 1) * range;

    private static double Radians(double degrees) => degrees * Math.PI / 180;

    private static double[,] Multiply(double[,] a, double[,] b) => new[,]
    {
        { a[0, 0] * b[0, 0] + a[0, 1] * b[1, 0], a[0, 0] * b[0, 1] + a[0, 1] * b[1, 1] },
        { a[1, 0] * b[0, 0] + a[1, 1] * b[1, 0], a[1, 0] * b[0, 1] + a[1, 1] * b[1, 1] },
    };
}
