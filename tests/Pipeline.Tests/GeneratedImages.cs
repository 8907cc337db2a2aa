using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Tests;

/// <summary>Learnable classes drawn at random (a shape and colour each), and bad files of every kind the split must
/// refuse.</summary>
public static class GeneratedImages
{
    public static readonly string[] Labels = ["circles", "squares", "stripes"];

    /// <summary>One image of a label: its shape at a random place and size, a random tint and pixel noise.</summary>
    public static Image<Rgb24> Draw(int label, Random random, int size = 80)
    {
        var image = new Image<Rgb24>(size, size);
        var (cx, cy) = (size * (0.35 + 0.3 * random.NextDouble()), size * (0.35 + 0.3 * random.NextDouble()));
        var radius = size * (0.2 + 0.1 * random.NextDouble());
        var tint = random.Next(-30, 30);
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                var inside = label switch
                {
                    0 => (x - cx) * (x - cx) + (y - cy) * (y - cy) < radius * radius,
                    1 => Math.Abs(x - cx) < radius && Math.Abs(y - cy) < radius,
                    _ => (x / 8) % 2 == 0,
                };
                var noise = random.Next(-20, 20);
                image[x, y] = label switch
                {
                    0 => inside ? Pixel(240, 240, 240, noise) : Pixel(200 + tint, 40, 40, noise),
                    1 => inside ? Pixel(20, 20, 20, noise) : Pixel(40, 190 + tint, 60, noise),
                    _ => inside ? Pixel(230, 220 + tint, 40, noise) : Pixel(40, 60, 200 + tint, noise),
                };
            }
        return image;
    }

    /// <summary>Shapes a multilabel scene may hold, one or more of them at once.</summary>
    public static readonly string[] Shapes = ["circle", "square", "triangle"];

    /// <summary>
    /// A scene holding the <paramref name="shapes"/> given (indices into <see cref="Shapes"/>; none: background only),
    /// each in its own cell of a 2 x 2 grid chosen at random, on a noisy background of a random dull colour.
    /// </summary>
    public static Image<Rgb24> Scene(IReadOnlyCollection<int> shapes, Random random, int size = 96)
    {
        var image = new Image<Rgb24>(size, size);
        var background = (random.Next(60, 140), random.Next(60, 140), random.Next(60, 140));
        var cells = new[] { 0, 1, 2, 3 };
        random.Shuffle(cells);
        var placed = shapes.Select((shape, i) => (Shape: shape, Cell: cells[i],
            Radius: size * (0.14 + 0.06 * random.NextDouble()))).ToList();
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                var noise = random.Next(-20, 20);
                var pixel = Pixel(background.Item1, background.Item2, background.Item3, noise);
                foreach (var (shape, cell, radius) in placed)
                {
                    var (cx, cy) = (size * (cell % 2 == 0 ? 0.27 : 0.73), size * (cell / 2 == 0 ? 0.27 : 0.73));
                    var (dx, dy) = (x - cx, y - cy);
                    var inside = shape switch
                    {
                        0 => dx * dx + dy * dy < radius * radius,
                        1 => Math.Abs(dx) < radius && Math.Abs(dy) < radius,
                        _ => dy < radius && dy > -radius && Math.Abs(dx) < (dy + radius) / 2,
                    };
                    if (inside)
                        pixel = shape switch
                        {
                            0 => Pixel(245, 245, 245, noise),
                            1 => Pixel(15, 15, 15, noise),
                            _ => Pixel(240, 210, 30, noise),
                        };
                }
                image[x, y] = pixel;
            }
        return image;
    }

    public static byte[] SceneJpeg(IReadOnlyCollection<int> shapes, Random random, int size = 96)
    {
        using var image = Scene(shapes, random, size);
        using var memory = new MemoryStream();
        image.SaveAsJpeg(memory);
        return memory.ToArray();
    }

    /// <summary>Every scene of one shape and of two, <paramref name="each"/> of each kind: (shapes, bytes).</summary>
    public static List<(int[] Shapes, byte[] Content)> Scenes(int each, int seed)
    {
        var random = new Random(seed);
        var kinds = Enumerable.Range(0, Shapes.Length).Select(s => new[] { s })
            .Concat(Enumerable.Range(0, Shapes.Length).SelectMany(a => Enumerable.Range(a + 1, Shapes.Length - a - 1)
                .Select(b => new[] { a, b })))
            .ToList();
        return kinds.SelectMany(kind => Enumerable.Range(0, each).Select(_ => (kind, SceneJpeg(kind, random))))
            .ToList();
    }

    public static byte[] Jpeg(int label, Random random, int size = 80)
    {
        using var image = Draw(label, random, size);
        using var memory = new MemoryStream();
        image.SaveAsJpeg(memory);
        return memory.ToArray();
    }

    /// <summary><paramref name="perLabel"/> images for each of the first <paramref name="labels"/> labels, as (label,
    /// file name, bytes).</summary>
    public static List<(string Label, string File, byte[] Content)> Dataset(int labels, int perLabel, int seed)
    {
        var random = new Random(seed);
        var images = new List<(string, string, byte[])>();
        for (var k = 0; k < labels; k++)
            for (var i = 0; i < perLabel; i++)
                images.Add((Labels[k], $"{Labels[k]}-{i:000}.jpg", Jpeg(k, random)));
        return images;
    }

    /// <summary>A valid PNG whose header claims <paramref name="width"/> x <paramref name="height"/> pixels (the pixels
    /// are never there).</summary>
    public static byte[] PngClaiming(int width, int height)
    {
        using var image = new Image<Rgb24>(16, 16);
        using var memory = new MemoryStream();
        image.SaveAsPng(memory);
        var png = memory.ToArray();
        // IHDR data starts at byte 16 (8 signature + 4 length + 4 type); its CRC covers type and data (bytes 12..28).
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29),
            System.IO.Hashing.Crc32.HashToUInt32(png.AsSpan(12, 17)));
        return png;
    }

    private static Rgb24 Pixel(int r, int g, int b, int noise) =>
        new((byte)Math.Clamp(r + noise, 0, 255), (byte)Math.Clamp(g + noise, 0, 255),
            (byte)Math.Clamp(b + noise, 0, 255));
}
