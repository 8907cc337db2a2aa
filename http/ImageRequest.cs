using Microsoft.AspNetCore.Http;
using Pipeline.Core.Serving;

namespace Pipeline.Http;

/// <summary>The images of a scoring request: the body as one image, or each file of a multipart/form-data
/// body.</summary>
public static class ImageRequest
{
    /// <summary>The images, or the 413 problem of the first one over <paramref name="limit"/> bytes (read no
    /// further).</summary>
    public static async Task<(IReadOnlyList<ImageUpload> Images, ApiProblem? TooLarge)> ReadAsync(HttpRequest request,
        long limit,
        CancellationToken ct)
    {
        var uploads = new List<ImageUpload>();
        if (request.HasFormContentType)
        {
            IFormCollection form;
            try { form = await request.ReadFormAsync(ct); }
            catch (InvalidDataException e) { return ([], ApiResult.Fail(413, "Request too large", e.Message)); }
            foreach (var file in form.Files)
            {
                if (file.Length > limit) return ([], TooLarge(file.FileName, limit));
                using var memory = new MemoryStream();
                await file.CopyToAsync(memory, ct);
                uploads.Add(new ImageUpload(string.IsNullOrEmpty(file.FileName) ? file.Name : file.FileName,
                    memory.ToArray()));
            }
            return (uploads, null);
        }
        if (request.ContentLength > limit) return ([], TooLarge("The body", limit));
        var body = await ReadAtMostAsync(request.Body, limit + 1, ct);
        if (body.Length > limit) return ([], TooLarge("The body", limit));
        uploads.Add(new ImageUpload("body", body));
        return (uploads, null);
    }

    private static ApiProblem TooLarge(string name, long limit) =>
        ApiResult.Fail(413, "Image too large",
            $"{name} is larger than the limit of {limit / 1048576.0:0.#} MB. Resize or recompress it.");

    private static async Task<byte[]> ReadAtMostAsync(Stream body, long max, CancellationToken ct)
    {
        using var memory = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            memory.Write(chunk, 0, read);
            if (memory.Length >= max) break;
        }
        return memory.ToArray();
    }
}
