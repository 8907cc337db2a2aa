using Pipeline.Tests;
using Xunit;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Trainer.Tests;

/// <summary>The generated shapes of <see cref="GeneratedImages"/> (shared with the pipeline's tests), written as real
/// image files.</summary>
public static class SyntheticImages
{
    public static string[] Labels => GeneratedImages.Labels;

    public static Image<Rgb24> Draw(int label, Random random, int size = 96)
        => GeneratedImages.Draw(label, random, size);

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
        Folder(name)
            ?? throw new SkipException($"../shared/datasets/{name} is absent (a clone without the shared data sets); "
            + "this test needs those real photos.");
}
