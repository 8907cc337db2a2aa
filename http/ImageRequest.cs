using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Pipeline.Core.Serving;

namespace Pipeline.Http;

/// <summary>The images of a scoring request: the body as one image, or each file of a multipart/form-data
/// body.</summary>
public static class ImageRequest
{
    private const int Chunk = 64 * 1024;

    /// <summary>The images, or the problem of a body that could not be read (cut short, stalled, malformed) or of
    /// the first image over <paramref name="limit"/> bytes (read no further).</summary>
    /// <remarks>A multipart body is read part by part as it arrives, each part once into an array of its own size
    /// (checked against the limit as it streams), never buffered whole.</remarks>
    public static async Task<(IReadOnlyList<ImageUpload> Images, ApiProblem? Problem)> ReadAsync(HttpRequest request,
        long limit,
        CancellationToken ct)
    {
        try
        {
            if (request.HasFormContentType) return await ReadPartsAsync(request, limit, ct);
            if (request.ContentLength > limit) return ([], TooLarge("The body", limit));
            var body = await ReadAtMostAsync(request.Body, request.ContentLength, limit, ct);
            return body is null ? ([], TooLarge("The body", limit)) : ([new ImageUpload("body", body)], null);
        }
        catch (Exception e) when (BodyProblem(e) is { } problem) { return ([], problem); }
    }

    private static async Task<(IReadOnlyList<ImageUpload> Images, ApiProblem? Problem)> ReadPartsAsync(
        HttpRequest request, long limit, CancellationToken ct)
    {
        var type = MediaTypeHeaderValue.Parse(request.ContentType);
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary))
            return ([], Malformed("The Content-Type has no boundary."));
        var reader = new MultipartReader(boundary, request.Body);
        var uploads = new List<ImageUpload>();
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                return ([], Malformed($"Part {uploads.Count + 1} has an invalid Content-Disposition header."));
            // Form fields that are not files are not images; read past them, as a form reader would.
            if (!disposition.IsFileDisposition())
            {
                await section.Body.DrainAsync(ct);
                continue;
            }
            var name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue
                ? disposition.FileNameStar : disposition.FileName).Value;
            if (string.IsNullOrEmpty(name)) name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            var content = await ReadAtMostAsync(section.Body, null, limit, ct);
            if (content is null) return ([], TooLarge(name, limit));
            uploads.Add(new ImageUpload(name, content));
        }
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
        InvalidDataException bad => Malformed(bad.Message),
        FormatException bad => Malformed(bad.Message),
        IOException => ApiResult.Fail(400, "Body cut short",
            "The body ended before the multipart closing boundary. Send the whole request again."),
        _ => null,
    };

    private static ApiProblem Malformed(string what) => ApiResult.Fail(400, "Malformed multipart body",
        $"{what} Send multipart/form-data with a boundary and one part per image, each named by a plain file name.");

    private static ApiProblem TooLarge(string name, long limit) =>
        ApiResult.Fail(413, "Image too large",
            $"{name} is larger than the limit of {limit / 1048576.0:0.#} MB. Resize or recompress it.");

    /// <summary>
    /// The whole stream in an array of its own size, or null once it passes <paramref name="limit"/> (read no
    /// further). A known length is read straight into its array; otherwise pooled chunks hold it until its end.
    /// </summary>
    private static async Task<byte[]?> ReadAtMostAsync(Stream body, long? length, long limit, CancellationToken ct)
    {
        if (length is { } known)
        {
            var exact = new byte[known];
            await body.ReadExactlyAsync(exact, ct);
            return exact;
        }
        var chunks = new List<byte[]>();
        try
        {
            long total = 0;
            while (true)
            {
                var chunk = ArrayPool<byte>.Shared.Rent(Chunk);
                chunks.Add(chunk);
                var filled = 0;
                int read;
                while (filled < Chunk && (read = await body.ReadAsync(chunk.AsMemory(filled, Chunk - filled), ct)) > 0)
                    filled += read;
                total += filled;
                if (total > limit) return null;
                if (filled < Chunk) break;
            }
            var content = new byte[total];
            for (var i = 0; i < chunks.Count; i++)
            {
                var used = (int)Math.Min(Chunk, total - (long)i * Chunk);
                chunks[i].AsSpan(0, used).CopyTo(content.AsSpan(i * Chunk));
            }
            return content;
        }
        finally { foreach (var chunk in chunks) ArrayPool<byte>.Shared.Return(chunk); }
    }
}
