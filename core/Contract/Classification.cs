namespace Pipeline.Core.Contract;

/// <summary>
/// The two kinds of dataset (dataset.json's <c>classification</c>, model.json's too): one label per image, or zero or
/// more; and the one label name with a meaning of its own, <see cref="Negative"/>.
/// </summary>
public static class Classification
{
    /// <summary>Each image has exactly one label; softmax over the labels.</summary>
    public const string Multiclass = "multiclass";
    /// <summary>Each image has zero or more labels; one sigmoid per label.</summary>
    public const string Multilabel = "multilabel";

    /// <summary>
    /// The folder of images that belong to no label (Custom Vision's Negative tag). Multilabel: all-zero targets,
    /// never an output. Multiclass: a class of its own that scoring marks as "no label".
    /// </summary>
    public const string Negative = "Negative";

    public static bool IsMultilabel(string? classification) =>
        string.Equals(classification, Multilabel, StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when <paramref name="classification"/> is valid (or not given), else the reason.</summary>
    public static string? Check(string? classification) =>
        classification is null or Multiclass or Multilabel ? null
            : $"classification must be \"{Multiclass}\" or \"{Multilabel}\", not \"{Names.Shown(classification)}\".";
}
