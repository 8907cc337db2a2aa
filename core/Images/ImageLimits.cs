using Pipeline.Core.Contract;

namespace Pipeline.Core.Images;

/// <summary>What an image may be before the pipeline decodes it. Checked on the header, so a crafted file is refused
/// before its pixels are.</summary>
public sealed record ImageLimits
{
    public long MaxBytes { get; init; } = PipelineOptions.DefaultMaxImageBytes;
    public long MaxPixels { get; init; } = PipelineOptions.DefaultMaxImagePixels;
    public int MaxSide { get; init; } = 12_000;
    public int MinSide { get; init; } = 16;

    public static ImageLimits Default { get; } = new();

    /// <summary>The limits the pipeline's settings ask for.</summary>
    public static ImageLimits From(PipelineOptions options) =>
        Default with { MaxBytes = options.MaxImageBytes, MaxPixels = options.MaxImagePixels };
}

/// <summary>What is wrong with a refused image; the HTTP endpoint maps it to a status (413 too large, 415 not an image,
/// else 400).</summary>
public enum ImageProblem
{
    Empty,
    TooLarge,
    TooSmall,
    NotAnImage,
    UnsupportedFormat,
    Corrupt,
}

/// <summary>An image the pipeline will not use, with a reason a person can act on.</summary>
public sealed class ImageRejectedException(ImageProblem problem, string reason,
    Exception? inner = null) : Exception(reason, inner)
{
    public ImageProblem Problem => problem;
    public string Reason => Message;
}
