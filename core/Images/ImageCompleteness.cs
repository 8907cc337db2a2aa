namespace Pipeline.Core.Images;

/// <summary>
/// Catches files cut short (an interrupted upload). ImageSharp decodes a truncated JPEG or PNG without complaint,
/// filling the missing rows with grey, so a check on the container's end markers comes first. Not a decoder: it looks
/// only at the markers that a complete file must have.
/// </summary>
public static class ImageCompleteness
{
    /// <summary>Null when the file looks complete for its format; otherwise why not.</summary>
    public static string? Check(ReadOnlySpan<byte> content, string format) => format.ToUpperInvariant() switch
    {
        "JPEG" => JpegComplete(content) ? null : Truncated("JPEG", "no end-of-image marker after its last scan"),
        "PNG" => content.IndexOf("IEND"u8) >= 0 ? null : Truncated("PNG", "no IEND chunk"),
        "WEBP" => content.Length >= 12 && BitConverter.ToUInt32(content[4..8]) + 8L <= content.Length ? null
            : Truncated("WebP", "shorter than its RIFF header says"),
        "GIF" => content.LastIndexOf((byte)0x3B) >= 0 ? null : Truncated("GIF", "no trailer"),
        _ => null,
    };

    // Entropy-coded data stuffs every 0xFF with 0x00, so 0xFFD9 after the last start-of-scan is the real end marker.
    private static bool JpegComplete(ReadOnlySpan<byte> content)
    {
        var lastScan = content.LastIndexOf([(byte)0xFF, (byte)0xDA]);
        return lastScan >= 0 && content[lastScan..].IndexOf([(byte)0xFF, (byte)0xD9]) >= 0;
    }

    private static string Truncated(string format, string what) =>
        $"The {format} file is truncated or corrupt ({what}): upload it again in full.";
}
