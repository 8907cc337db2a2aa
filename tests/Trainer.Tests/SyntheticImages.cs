using Xunit;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Trainer.Tests;

/// <summary>Learnable generated classes (a shape and colour each, placed and tinted at random), written as real image files.</summary>
public static class SyntheticImages
{
    public static readonly string[] Labels = ["circles", "squares", "stripes"];

    public static Image<Rgb24> Draw(int label, Random random, int size = 96)
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

    /// <summary>Writes <paramref name="perLabel"/> JPEGs per label into <c>folder/label/</c>.</summary>
    public static string WriteDataset(string folder, int perLabel, int seed = 1, IReadOnlyList<string>? labels = null)
    {
        var random = new Random(seed);
        labels ??= Labels;
        for (var k = 0; k < labels.Count; k++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(folder, labels[k])).FullName;
            for (var i = 0; i < perLabel; i++)
            {
                using var image = Draw(k % Labels.Length, random);
                image.SaveAsJpeg(Path.Combine(dir, $"{labels[k]}-{i:000}.jpg"));
            }
        }
        return folder;
    }

    private static Rgb24 Pixel(int r, int g, int b, int noise) =>
        new((byte)Math.Clamp(r + noise, 0, 255), (byte)Math.Clamp(g + noise, 0, 255), (byte)Math.Clamp(b + noise, 0, 255));
}

/// <summary>A temporary folder removed after the test.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("pipeline-test-").FullName;
    public string this[string child] => System.IO.Path.Combine(Path, child);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

public static class SharedData
{
    /// <summary>../shared/datasets beside the repository root, found by walking up from the test's folder.</summary>
    public static string? Folder(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "datasets", name);
            if (Directory.Exists(candidate)) return candidate;
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Pipeline.sln")))
            {
                var beside = System.IO.Path.Combine(dir.Parent?.FullName ?? "", "shared", "datasets", name);
                return Directory.Exists(beside) ? beside : null;
            }
        }
        return null;
    }

    public static string Require(string name) =>
        Folder(name) ?? throw new SkipException($"../shared/datasets/{name} is absent (a clone without the shared data sets); this test needs those real photos.");
}
