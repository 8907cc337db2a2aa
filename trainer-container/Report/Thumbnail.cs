using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Trainer.Report;

/// <summary>A test image as the model saw it (224 x 224 after resizing), from its BGR channel-planar pixels, as a
/// JPEG.</summary>
public static class Thumbnail
{
    public static byte[] Jpeg(byte[] bgrPlanar, int size = 224)
    {
        var plane = size * size;
        if (bgrPlanar.Length != 3 * plane)
            throw new ArgumentException(
                $"Expected {3 * plane} bytes of {size}x{size} BGR pixels, got {bgrPlanar.Length}.");
        using var image = new Image<Rgb24>(size, size);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < size; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < size; x++)
                {
                    var i = y * size + x;
                    row[x] = new Rgb24(bgrPlanar[2 * plane + i], bgrPlanar[plane + i], bgrPlanar[i]);
                }
            }
        });
        using var memory = new MemoryStream();
        image.SaveAsJpeg(memory, new JpegEncoder { Quality = 85 });
        return memory.ToArray();
    }
}
