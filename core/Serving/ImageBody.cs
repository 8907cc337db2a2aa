using Pipeline.Core.Images;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Core.Serving;

/// <summary>One image as a request carried it.</summary>
public sealed record ImageUpload(string Name, byte[] Content);

/// <summary>
/// Turns a request's bytes into a decoded image or the HTTP problem it is: 413 too large (bytes or pixels),
/// 415 not an image at all, 400 an image that is empty, corrupt or in a format the pipeline does not take.
/// </summary>
public static class ImageBody
{
    public static (Image<Rgb24>? Image, ApiResult? Problem) Decode(ImageUpload upload, ImageLimits limits)
    {
        var name = upload.Name;
        if (upload.Content.Length == 0) return (null, ApiResult.Fail(400, "Empty image", $"'{name}' is empty (0 bytes): send the image file's bytes."));
        if (upload.Content.Length > limits.MaxBytes)
            return (null, ApiResult.Fail(413, "Image too large", $"'{name}' is {upload.Content.Length / 1048576.0:0.#} MB; the limit is {limits.MaxBytes / 1048576.0:0.#} MB. Resize or recompress it."));

        // ImageSharp's full default set also knows TIFF, TGA and PBM: an image we refuse (400) rather than "not an image" (415).
        var format = Image.DetectFormat(upload.Content);
        if (format is null)
            return (null, ApiResult.Fail(415, "Not an image", $"'{name}' is not an image: send {ImageFile.SupportedFormats} bytes (Content-Type image/*), or several as multipart/form-data."));
        if (format.Name.ToUpperInvariant() is not ("JPEG" or "PNG" or "GIF" or "BMP" or "WEBP"))
            return (null, ApiResult.Fail(400, "Unsupported image format", $"'{name}' is {format.Name}; send {ImageFile.SupportedFormats}."));
        try
        {
            var info = Image.Identify(upload.Content);
            if (info is not null && ((long)info.Width * info.Height > limits.MaxPixels || info.Width > limits.MaxSide || info.Height > limits.MaxSide))
                return (null, ApiResult.Fail(413, "Image too large",
                    $"'{name}' is {info.Width}x{info.Height} pixels; the limit is {limits.MaxPixels / 1_000_000.0:0.#} megapixels and {limits.MaxSide} pixels a side. Downscale it."));
        }
        catch (Exception e) when (e is ImageFormatException or InvalidImageContentException or NotSupportedException)
        {
            return (null, ApiResult.Fail(400, "Corrupt image", $"'{name}' has a corrupt header: {e.Message}"));
        }
        if (Datasets.ImageCompleteness.Check(upload.Content, format.Name) is { } truncated) return (null, ApiResult.Fail(400, "Corrupt image", $"'{name}': {truncated}"));
        try { return (ImageFile.Decode(new MemoryStream(upload.Content, writable: false), limits), null); }
        catch (ImageRejectedException e) { return (null, ApiResult.Fail(400, "Corrupt image", $"'{name}': {e.Reason}")); }
    }
}
