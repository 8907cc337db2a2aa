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
    public static (Image<Rgb24>? Image, ApiProblem? Problem) Decode(ImageUpload upload, ImageLimits limits)
    {
        try { return (ImageFile.Decode(upload.Content, limits), null); }
        catch (ImageRejectedException e)
        {
            var (status, title) = e.Problem switch
            {
                ImageProblem.TooLarge => (413, "Image too large"),
                ImageProblem.NotAnImage => (415, "Not an image"),
                ImageProblem.Empty => (400, "Empty image"),
                ImageProblem.UnsupportedFormat => (400, "Unsupported image format"),
                ImageProblem.TooSmall => (400, "Image too small"),
                _ => (400, "Corrupt image"),
            };
            var hint = e.Problem == ImageProblem.NotAnImage
                ? " Send the image file's bytes (Content-Type image/*), or several as multipart/form-data." : "";
            return (null, ApiResult.Fail(status, title, $"'{upload.Name}': {e.Reason}{hint}"));
        }
    }
}
