using Pipeline.Core.Contract;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Pipeline.Core.Images;

/// <summary>
/// The one way pixels reach the network, shared by training, evaluation and scoring: resized to Size x Size
/// (centre crop keeping the aspect ratio, or squashed), channels-first BGR, 0-255 floats, as ResNetPreprocess.onnx
/// expects.
/// The mean image is subtracted inside the network, so augmentation works on plain pixels.
/// </summary>
public static class Preprocessing
{
    public const int Size = 224;
    public const string Crop = "crop";
    public const string Squash = "squash";

    public static PreprocessingSpec Spec(string resize) => new(Size, Validate(resize));

    public static string Validate(string resize) => resize is Crop or Squash
        ? resize
        : throw new ArgumentException($"Unknown resize mode '{resize}': use '{Crop}' or '{Squash}'.");

    /// <summary>Writes one image's Size*Size*3 values into <paramref name="destination"/>.</summary>
    public static void Write(Image<Rgb24> image, string resize, Span<float> destination)
    {
        if (destination.Length != 3 * Size * Size)
            throw new ArgumentException("The destination must hold 3 x 224 x 224 values.");
        var rgb = Resized(image, resize);
        const int plane = Size * Size;
        for (var i = 0; i < plane; i++)
        {
            destination[i] = rgb[i].B;
            destination[plane + i] = rgb[i].G;
            destination[2 * plane + i] = rgb[i].R;
        }
    }

    /// <summary>The same values as bytes (a quarter of the memory), for the trainer's kept copy of each
    /// image.</summary>
    public static byte[] ToBytes(Image<Rgb24> image, string resize)
    {
        var rgb = Resized(image, resize);
        const int plane = Size * Size;
        var bytes = new byte[3 * plane];
        for (var i = 0; i < plane; i++)
        {
            bytes[i] = rgb[i].B;
            bytes[plane + i] = rgb[i].G;
            bytes[2 * plane + i] = rgb[i].R;
        }
        return bytes;
    }

    private static Rgb24[] Resized(Image<Rgb24> image, string resize)
    {
        using var resized = image.Clone(x => x.Resize(new ResizeOptions
        {
            Size = new Size(Size, Size),
            Mode = Validate(resize) == Crop ? ResizeMode.Crop : ResizeMode.Stretch,
            Position = AnchorPositionMode.Center,
        }));
        var rgb = new Rgb24[Size * Size];
        resized.CopyPixelDataTo(rgb);
        return rgb;
    }
}
