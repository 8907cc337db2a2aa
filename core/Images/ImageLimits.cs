namespace Pipeline.Core.Images;

/// <summary>What an image may be before the pipeline decodes it. Checked on the header, so a crafted file is refused before its pixels are.</summary>
public sealed record ImageLimits
{
    public long MaxBytes { get; init; } = 20 * 1024 * 1024;
    public long MaxPixels { get; init; } = 40_000_000;
    public int MaxSide { get; init; } = 12_000;
    public int MinSide { get; init; } = 16;

    public static ImageLimits Default { get; } = new();
}

/// <summary>An image the pipeline will not use, with a reason a person can act on.</summary>
public sealed class ImageRejectedException(string reason, Exception? inner = null) : Exception(reason, inner)
{
    public string Reason => Message;
}
