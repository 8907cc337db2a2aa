using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Core.Scoring;

/// <param name="TagType">"Negative" on the label that means "no label" (Custom Vision's tagType); null
/// otherwise.</param>
public sealed record Prediction(string Label, double Probability, string? TagType = null);

/// <summary>
/// Scores images with a model version's model.onnx under ONNX Runtime. Thread-safe (one session, concurrent runs),
/// batched, and fed by <see cref="Preprocessing"/>, the code the trainer uses. The function app never loads TorchSharp.
/// </summary>
public sealed class Scorer : IDisposable
{
    private readonly InferenceSession session;

    public ModelManifest Manifest { get; }

    /// <summary>
    /// A multilabel model's outputs are sigmoids, each label's probability on its own (they need not sum to 1 and
    /// are never renormalised); a multiclass model's are a softmax.
    /// </summary>
    public bool Multilabel => Classification.IsMultilabel(Manifest.Classification);

    /// <summary>The label that means "no label" (a multiclass model's Negative class), or null.</summary>
    public string? NegativeLabel => Manifest.NegativeLabel;

    /// <param name="threads">Intra-op threads of each run; 0: one per core the process may use.</param>
    public Scorer(byte[] model, ModelManifest manifest, int threads = 0)
    {
        // Requests run the one session at once: its idle threads sleep (2 threads: 21 images/s spinning, 92 without;
        // docs/benchmarks.md).
        using var options = CpuSessions.Options(GraphOptimizationLevel.ORT_ENABLE_ALL, threads);
        session = new InferenceSession(model, options);
        Manifest = manifest;
    }

    /// <summary>Loads model.onnx and model.json from a model version's folder.</summary>
    public static Scorer Load(string folder, int threads = 0) =>
        new(File.ReadAllBytes(Path.Combine(folder, ModelFiles.Model)),
            ModelFiles.ReadManifest(File.ReadAllText(Path.Combine(folder, ModelFiles.Manifest))), threads);

    /// <summary>Probabilities, one row per image, in <see cref="ModelManifest.Labels"/> order, as the model gives
    /// them.</summary>
    public float[][] Probabilities(IReadOnlyList<Image<Rgb24>> images)
    {
        if (images.Count == 0) return [];
        const int one = 3 * Preprocessing.Size * Preprocessing.Size;
        var pixels = new float[images.Count * one];
        for (var i = 0; i < images.Count; i++)
            Preprocessing.Write(images[i], Manifest.Preprocessing.Resize, pixels.AsSpan(i * one, one));
        return Probabilities(pixels, images.Count);
    }

    /// <summary>Class probabilities for images already preprocessed into one N x 3 x 224 x 224 buffer.</summary>
    public float[][] Probabilities(float[] pixels, int count)
    {
        var input = new DenseTensor<float>(pixels, [count, 3, Preprocessing.Size, Preprocessing.Size]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(ModelFiles.InputName, input)]);
        var output = results.First().AsTensor<float>();
        var labels = Manifest.Labels.Count;
        var rows = new float[count][];
        for (var i = 0; i < count; i++)
        {
            rows[i] = new float[labels];
            for (var j = 0; j < labels; j++) rows[i][j] = output[i, j];
        }
        return rows;
    }

    /// <summary>Predictions per image, most probable first, cut to <paramref name="top"/> when given.</summary>
    public IReadOnlyList<IReadOnlyList<Prediction>> Score(IReadOnlyList<Image<Rgb24>> images, int? top = null) =>
        Probabilities(images).Select(row => (IReadOnlyList<Prediction>)row
            .Select((p, j) => new Prediction(Manifest.Labels[j], p,
                Manifest.Labels[j] == NegativeLabel ? Classification.Negative : null))
            .OrderByDescending(p => p.Probability)
            .Take(top ?? int.MaxValue)
            .ToList()).ToList();

    public void Dispose() => session.Dispose();
}
