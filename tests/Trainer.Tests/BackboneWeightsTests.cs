using Pipeline.Trainer.Model;
using Pipeline.Trainer.Onnx;
using Xunit;

namespace Pipeline.Trainer.Tests;

/// <summary>The converted weights file: the same backbone as the ONNX files, and never trusted when it is damaged or
/// was made from other files.</summary>
public class BackboneWeightsTests
{
    [Fact]
    public void The_first_load_writes_the_converted_file_and_the_next_reads_the_same_weights_from_it()
    {
        using var temp = CopyOfTheOnnxFiles();
        using var fromOnnx = BackboneWeights.Load(temp.Path);
        var converted = temp[BackboneWeights.ConvertedFile];
        Assert.True(File.Exists(converted), "the first load keeps the converted weights");
        var written = File.GetLastWriteTimeUtc(converted);

        using var fromConverted = BackboneWeights.Load(temp.Path);
        Assert.Equal(written, File.GetLastWriteTimeUtc(converted)); // read, not written again
        AssertSameWeights(fromOnnx, fromConverted);
        Assert.Empty(Directory.GetFiles(temp.Path, "*.tmp"));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("truncated")]
    [InlineData("other ONNX files")]
    public void A_damaged_or_stale_converted_file_is_made_again_from_the_onnx_files(string damage)
    {
        using var temp = CopyOfTheOnnxFiles();
        using var reference = BackboneWeights.Load(temp.Path);
        var converted = temp[BackboneWeights.ConvertedFile];
        var good = File.ReadAllBytes(converted);
        switch (damage)
        {
            case "garbage": File.WriteAllBytes(converted, [.. Enumerable.Range(0, 5000).Select(i => (byte)i)]); break;
            case "truncated": File.WriteAllBytes(converted, good[..(good.Length / 2)]); break;
            case "other ONNX files":
                // Same weights on disk, but a different copy: the file no longer says where it came from.
                File.SetLastWriteTimeUtc(temp["ResNet18.onnx"], DateTime.UtcNow.AddMinutes(-5));
                break;
        }

        using var loaded = BackboneWeights.Load(temp.Path);
        AssertSameWeights(reference, loaded);
        var rewritten = File.ReadAllBytes(converted);
        Assert.Equal(good.Length, rewritten.Length);
        if (damage != "other ONNX files") Assert.Equal(good, rewritten);
    }

    private static TempFolder CopyOfTheOnnxFiles()
    {
        var temp = new TempFolder();
        foreach (var file in new[] { "ResNet18.onnx", "ResNetPreprocess.onnx" })
            File.Copy(Path.Combine(BackboneWeights.DefaultFolder, file), temp[file]);
        return temp;
    }

    private static void AssertSameWeights(ResNetBackbone expected, ResNetBackbone actual)
    {
        var want = expected.state_dict();
        var got = actual.state_dict();
        Assert.Equal(want.Keys.Order(), got.Keys.Order());
        foreach (var (name, tensor) in want)
            Assert.True(tensor.eq(got[name]).all().item<bool>(), $"{name} differs");
    }
}
