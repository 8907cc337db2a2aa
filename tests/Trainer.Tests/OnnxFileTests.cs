using Pipeline.Trainer.Model;
using Pipeline.Trainer.Onnx;
using Pipeline.Trainer.Onnx.Proto;
using Xunit;
using Xunit.Abstractions;

namespace Pipeline.Trainer.Tests;

public class OnnxFileTests(ITestOutputHelper output)
{
    /// <summary>
    /// Allocation is the measure of copies: the export allocates the weights once (out of the tensors) and the model
    /// once (serialized); the hand-written codec allocated 10.4 times the weights.
    /// </summary>
    [Fact]
    public void Export_copies_the_weights_at_most_twice()
    {
        using var model = new Classifier(BackboneWeights.Load(), 3, 0.4);
        model.eval();
        OnnxExport.ToBytes(model, false); // JIT and protobuf's static set-up are not the export's copies
        var before = GC.GetAllocatedBytesForCurrentThread();
        var bytes = OnnxExport.ToBytes(model, false);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var weights = ModelProto.Parser.ParseFrom(bytes).Graph.Initializer.Sum(t => (long)t.RawData.Length);
        output.WriteLine($"weights {weights / 1e6:F1} MB, model {bytes.Length / 1e6:F1} MB, " +
            $"allocated {allocated / 1e6:F1} MB ({(double)allocated / weights:F2} times the weights)");
        Assert.True(weights > 40_000_000, $"ResNet18's weights are over 40 MB, not {weights} bytes");
        Assert.True(allocated < 2.2 * weights, $"export allocated {(double)allocated / weights:F2} times the weights");
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("empty")]
    [InlineData("garbage")]
    [InlineData("preprocessing truncated")]
    [InlineData("a weight missing")]
    public void A_truncated_or_corrupt_backbone_file_is_invalid_data(string damage)
    {
        using var temp = new TempFolder();
        var network = File.ReadAllBytes(Path.Combine(BackboneWeights.DefaultFolder, "ResNet18.onnx"));
        var prep = File.ReadAllBytes(Path.Combine(BackboneWeights.DefaultFolder, "ResNetPreprocess.onnx"));
        switch (damage)
        {
            case "truncated": network = network[..(network.Length / 2)]; break;
            case "empty": network = []; break;
            case "garbage": new Random(1).NextBytes(network.AsSpan(0, 4096)); break;
            case "preprocessing truncated": prep = prep[..(prep.Length - 100)]; break;
            case "a weight missing": network = WithoutInitializer(network, 3); break;
        }
        File.WriteAllBytes(temp["ResNet18.onnx"], network);
        File.WriteAllBytes(temp["ResNetPreprocess.onnx"], prep);

        var error = Assert.Throws<InvalidDataException>(() => BackboneWeights.Load(temp.Path));
        output.WriteLine(error.Message);
        Assert.Contains(temp.Path, error.Message);
    }

    /// <summary>A model that parses but is not the graph the walk knows.</summary>
    private static byte[] WithoutInitializer(byte[] network, int index)
    {
        var model = ModelProto.Parser.ParseFrom(network);
        model.Graph.Initializer.RemoveAt(index);
        return Google.Protobuf.MessageExtensions.ToByteArray(model);
    }
}
