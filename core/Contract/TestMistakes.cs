namespace Pipeline.Core.Contract;

/// <summary>
/// mistakes.json of a model version (<see cref="ModelFiles.Mistakes"/>): for each true label, the test images the
/// model gave another label, the most confident first, at most <see cref="PerLabel"/>; every label is listed, an
/// empty list where it made none. Written for multiclass models only: a multilabel image has no single "other label"
/// it was mistaken for (its outcomes per label are in model.json).
/// </summary>
public sealed record TestMistakes
{
    /// <summary>How many mistakes a label keeps: enough to fix a label's worst, few enough to keep the file small.
    /// </summary>
    public const int PerLabel = 12;

    public required string Dataset { get; init; }
    public required string Version { get; init; }
    /// <summary>What <see cref="TestMistake.Image"/> names: <see cref="BlobImages"/> or <see cref="FileImages"/>.
    /// </summary>
    public required string Images { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyList<TestMistake>> Labels { get; init; }

    /// <summary>A job's version: images are blobs of the test container, <c>&lt;dataset&gt;/&lt;label&gt;/&lt;file&gt;
    /// </c>, which the API's image, thumbnail and move routes address as split <c>test</c>.</summary>
    public const string BlobImages = "test-blobs";
    /// <summary>A version trained from folders: images are paths relative to the data folder (or the test folder given
    /// apart), with '/' between segments.</summary>
    public const string FileImages = "files";
}

/// <summary>One test image given the wrong label: <see cref="Confidence"/> is the probability of
/// <see cref="Predicted"/>, <see cref="LabelProbability"/> that of its true <see cref="Label"/>.</summary>
public sealed record TestMistake(string Image, string Label, string Predicted, double Confidence,
    double LabelProbability);
