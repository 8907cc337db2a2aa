using Microsoft.AspNetCore.Http;
using Pipeline.Core.Serving;

namespace Pipeline.Http;

/// <summary>The images of a scoring request: the body as one image, or each file of a multipart/form-data
/// body.</summary>
public static class ImageRequest
{
    /// <summary>The images, or the problem of a body that could not be read (cut short, stalled, malformed) or of
    /// the first image over <paramref name="limit"/> bytes (read no further).</summary>
    public static async Task<(IReadOnlyList<ImageUpload> Images, ApiProblem? Problem)> ReadAsync(HttpRequest request,
        long limit,
        CancellationToken ct)
    {
        var uploads = new List<ImageUpload>();
        if (request.HasFormContentType)
        {
            IFormCollection form;
            try { form = await request.ReadFormAsync(ct); }
            catch (Exception e) when (BodyProblem(e) is { } problem) { return ([], problem); }
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
        byte[] body;
        try { body = await ReadAtMostAsync(request.Body, limit + 1, ct); }
        catch (Exception e) when (BodyProblem(e) is { } problem) { return ([], problem); }
        if (body.Length > limit) return ([], TooLarge("The body", limit));
        uploads.Add(new ImageUpload("body", body));
        return (uploads, null);
    }

    /// <summary>
    /// A request body that could not be read, as the 4xx it is: cut short, stalled, too large, or not multipart.
    /// </summary>
    private static ApiProblem? BodyProblem(Exception e) => e switch
    {
        BadHttpRequestException { StatusCode: 408 } => ApiResult.Fail(408, "Request body too slow",
            "The body stopped arriving before it was complete. Send it again, whole."),
        BadHttpRequestException { StatusCode: 413 } => ApiResult.Fail(413, "Request too large",
            "The request is larger than the server takes. Send fewer or smaller images per request."),
        BadHttpRequestException bad => ApiResult.Fail(bad.StatusCode, "Bad request", bad.Message),
        InvalidDataException { Message: var m } when m.Contains("limit", StringComparison.OrdinalIgnoreCase)
            => ApiResult.Fail(413, "Request too large", m),
        InvalidDataException bad => ApiResult.Fail(400, "Malformed multipart body",
            $"{bad.Message} Send multipart/form-data with a boundary and one part per image, each named by a plain " +
                "file name."),
        IOException => ApiResult.Fail(400, "Body cut short",
            "The body ended before the multipart closing boundary. Send the whole request again."),
        _ => null,
    };

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
