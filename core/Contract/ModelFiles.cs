using System.Text.Json;

namespace Pipeline.Core.Contract;

/// <summary>
/// The files of a model version, <c>models/&lt;dataset&gt;/&lt;version&gt;/&lt;file&gt;</c>, and the names of the
/// model's input and output: the trainer writes them, the scorer, the API and the command line read them.
/// </summary>
public static class ModelFiles
{
    /// <summary>The classifier as ONNX: <see cref="InputName"/> in, <see cref="OutputName"/> out.</summary>
    public const string Model = "model.onnx";
    /// <summary>The <see cref="ModelManifest"/>; uploaded last, so a version with a manifest is complete.</summary>
    public const string Manifest = "model.json";
    /// <summary>The training report: one self-contained HTML page.</summary>
    public const string Report = "report.html";
    /// <summary>The trainer's weights, kept beside the model for a later run to start from.</summary>
    public const string Checkpoint = "checkpoint.dat";
    /// <summary>The <see cref="TestMistakes"/>: each label's most confident mistakes on the test split (multiclass
    /// models only).</summary>
    public const string Mistakes = "mistakes.json";

    /// <summary>The files a user may download through the API.</summary>
    public static readonly string[] Downloadable = [Model, Manifest, Report, Mistakes];

    public const string InputName = "pixels";
    public const string OutputName = "probabilities";

    /// <summary>The blob of <paramref name="file"/> of a version in the models container.</summary>
    public static string Blob(string dataset, string version, string file) => $"{dataset}/{version}/{file}";

    /// <summary>A model version's name: letters, digits and '-' (a job id such as 20261128-180512-3fa2c1).</summary>
    public static bool IsVersion(string? version) =>
        !string.IsNullOrEmpty(version) && version.Length <= 64 && version.All(c =>
            char.IsAsciiLetterOrDigit(c) || c == '-');

    public static ModelManifest ReadManifest(string json) =>
        JsonSerializer.Deserialize<ModelManifest>(json,
            Json.Options) ?? throw new InvalidDataException("model.json is empty.");
}
