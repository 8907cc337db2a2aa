using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Scoring;
using Pipeline.Trainer.Model;
using Pipeline.Trainer.Onnx;
using Pipeline.Trainer.Training;
using Xunit;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Tests;

public class ModelParityTests
{
    private const int Plane = 3 * 224 * 224;

    /// <summary>Generated images always; with ../shared/datasets present, real photos too.</summary>
    private static float[] Pixels(int count)
    {
        var random = new Random(7);
        var images = Enumerable.Range(0, count).Select(i => SyntheticImages.Draw(i % 3, random, 160)).ToList();
        if (SharedData.Folder("hymenoptera") is { } real)
        {
            var photos = Directory.EnumerateFiles(Path.Combine(real, "val", "bees")).Order().Take(2).ToList();
            for (var i = 0; i < photos.Count; i++)
            {
                images[i].Dispose();
                images[i] = ImageFile.Decode(photos[i], ImageLimits.Default);
            }
        }
        var pixels = new float[count * Plane];
        for (var i = 0; i < count; i++) Preprocessing.Write(images[i], Preprocessing.Crop,
            pixels.AsSpan(i * Plane, Plane));
        images.ForEach(i => i.Dispose());
        return pixels;
    }

    [Fact]
    public void TorchSharp_backbone_features_equal_the_original_onnx_under_onnx_runtime()
    {
        const int count = 3;
        var pixels = Pixels(count);
        using var backbone = BackboneWeights.Load();
        float[] torchFeatures;
        using (no_grad()) torchFeatures = backbone.forward(tensor(pixels,
            [count, 3, 224, 224])).data<float>().ToArray();

        using var prep = new InferenceSession(Path.Combine(BackboneWeights.DefaultFolder, "ResNetPreprocess.onnx"));
        using var net = new InferenceSession(Path.Combine(BackboneWeights.DefaultFolder, "ResNet18.onnx"));
        for (var n = 0; n < count; n++)
        {
            // ResNetPreprocess.onnx takes RGB and turns it into BGR itself; our pixels are BGR already.
            var rgb = new float[Plane];
            for (var c = 0; c < 3; c++) Array.Copy(pixels, n * Plane + (2 - c) * 224 * 224, rgb, c * 224 * 224,
                224 * 224);
            using var prepared = prep.Run([NamedOnnxValue.CreateFromTensor(prep.InputMetadata.Keys.First(),
                new DenseTensor<float>(rgb, [1, 3, 224, 224]))]);
            using var output = net.Run([NamedOnnxValue.CreateFromTensor(net.InputMetadata.Keys.First(),
                prepared.First().AsTensor<float>().ToDenseTensor())]);
            var expected = output.First().AsTensor<float>().ToArray();
            Assert.Equal(ResNetBackbone.Features, expected.Length);
            Assert.True(expected.Max() > 0.1f, "the features should not be all zero");
            for (var j = 0; j < expected.Length; j++)
                Assert.True(Math.Abs(expected[j] - torchFeatures[n * 512 + j]) < 1e-4,
                    $"image {n}, feature {j}: {expected[j]} vs {torchFeatures[n * 512 + j]}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Exported_model_gives_torchsharp_probabilities_under_onnx_runtime(bool flipAverage)
    {
        const int count = 4;
        var pixels = Pixels(count);
        manual_seed(3);
        using var model = new Classifier(BackboneWeights.Load(), 3, 0.4);
        using (no_grad())
        {
            // A trained-looking head and a nudged layer4, so the test also covers weights that differ from the
            // pretrained ones.
            model.head.weight!.normal_(0, 0.05);
            model.backbone.layer4[2].conv2.weight!.mul_(1.1);
        }
        model.eval();
        float[] expected;
        using (no_grad()) expected = model.Probabilities(tensor(pixels, [count, 3, 224, 224]),
            flipAverage).data<float>().ToArray();

        using var scorer = new Scorer(OnnxExport.ToBytes(model, flipAverage), Manifest(3));
        var actual = scorer.Probabilities(pixels, count);
        for (var n = 0; n < count; n++)
        {
            Assert.Equal(1.0, actual[n].Sum(), 4);
            for (var j = 0; j < 3; j++) Assert.True(Math.Abs(actual[n][j] - expected[n * 3 + j]) < 1e-4,
                $"image {n}, label {j}");
        }
        // A batch of one scores the same as inside the batch: the batch dimension is dynamic.
        var single = scorer.Probabilities(pixels[..Plane], 1);
        Assert.Equal(actual[0][1], single[0][1], 5);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(3)]
    public void Int8_export_scores_as_the_trainer_s_int8_passes_and_head(int int8Stages)
    {
        const int count = 4;
        var pixels = Pixels(count);
        manual_seed(5);
        using var model = new Classifier(BackboneWeights.Load(), 3, 0.4);
        using (no_grad())
        {
            model.head.weight!.normal_(0, 0.05);
            // Stages from int8Stages on run in float, as after fine-tuning: nudge them as fine-tuning would.
            model.backbone.layer4[2].conv2.weight!.mul_(1.1);
        }
        model.eval();
        using var batch = tensor(pixels, [count, 3, 224, 224]);
        var calibration = Int8Calibration.Measure(model.backbone, [batch]);
        using var extractor = new FeatureExtractor(model.backbone, int8Stages < 4 ? int8Stages : null, true,
            calibration);
        var (features, activations) = extractor.Run(batch);
        float[] expected;
        using (no_grad())
        {
            var pooled = int8Stages < 4 ? model.backbone.Top(activations!.to(ScalarType.Float32), int8Stages,
                withLayer3: true) : features;
            expected = nn.functional.softmax(model.HeadLogits(pooled), 1).data<float>().ToArray();
        }

        var bytes = OnnxExport.ToBytes(model, false, calibration, int8Stages);
        using var scorer = new Scorer(bytes, Manifest(3));
        var actual = scorer.Probabilities(pixels, count);
        for (var n = 0; n < count; n++)
            for (var j = 0; j < 3; j++) Assert.True(Math.Abs(actual[n][j] - expected[n * 3 + j]) < 1e-4,
                $"image {n}, label {j}");
        Assert.True(bytes.AsSpan().IndexOf("QuantizeLinear"u8) >= 0, "the export should hold QDQ nodes");
    }

    [Fact]
    public void Int8_features_stay_close_to_float_features()
    {
        const int count = 4;
        var pixels = Pixels(count);
        using var backbone = BackboneWeights.Load();
        using var batch = tensor(pixels, [count, 3, 224, 224]);
        using var int8 = new FeatureExtractor(backbone, null, true, Int8Calibration.Measure(backbone, [batch]));
        using var plain = new FeatureExtractor(backbone, null, true);
        var a = int8.Run(batch).Features;
        var b = plain.Run(batch).Features;
        var cosine = nn.functional.cosine_similarity(a, b, 1);
        Assert.True(cosine.min().item<float>() > 0.98f, $"cosine similarity {cosine.min().item<float>()}");
        Assert.False(a.allclose(b, 1e-6, 1e-6), "the int8 passes should not be the float ones");
    }

    /// <summary>The passes read plain images from their bytes under ONNX Runtime (no libtorch conversion): the same
    /// features, float and int8, activations too, as from the pixels converted in libtorch.</summary>
    [Fact]
    public void Features_read_from_bytes_equal_those_from_converted_pixels()
    {
        const int count = 4;
        var pixels = Pixels(count);
        var images = Enumerable.Range(0, count).Select(i => new LabelledImage($"image{i}", i % 3,
            pixels.AsSpan(i * Plane, Plane).ToArray().Select(p => (byte)p).ToArray())).ToList();
        using var backbone = BackboneWeights.Load();
        using var batch = FeatureCache.Pixels(images);
        using var int8 = new FeatureExtractor(backbone, 3, true, Int8Calibration.Measure(backbone, [batch]));
        using var plain = new FeatureExtractor(backbone, null, true);
        foreach (var extractor in new[] { int8, plain })
        {
            var (fromBytes, activationsFromBytes) = extractor.Run(images);
            var (fromPixels, activationsFromPixels) = extractor.Run(batch);
            Assert.True(fromBytes.allclose(fromPixels, 0, 0), "features");
            Assert.Equal(activationsFromPixels is null, activationsFromBytes is null);
            if (activationsFromPixels is not null)
                Assert.True(activationsFromBytes!.allclose(activationsFromPixels, 0, 0), "activations");
        }
    }

    public static ModelManifest Manifest(int labels) => new()
    {
        Version = "test", Dataset = "test", Labels = Enumerable.Range(0, labels).Select(i => $"label{i}").ToList(),
        Preprocessing = Preprocessing.Spec(Preprocessing.Crop), Options = new TrainingOptions(),
        ImageCounts = new Dictionary<string, IReadOnlyDictionary<string, int>>(), Metrics = new Metrics(),
        Thresholds = new Dictionary<string, double>(), Timings = new Timings(0, 0, 0, 0, 0, 0, 0, 0), Device = "cpu",
        PackageVersions = new Dictionary<string, string>(),
    };
}
