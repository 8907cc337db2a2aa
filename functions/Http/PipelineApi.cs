using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;

namespace Pipeline.Functions.Http;

/// <summary>
/// The HTTP API in one place: its routes, how a request becomes a core call and how the answer becomes a response.
/// The function app's HTTP triggers and the local host's minimal API both call these, so both answer alike.
/// (The local host compiles this file too.)
/// </summary>
public static class PipelineApi
{
    public const string Datasets = "datasets";
    public const string Dataset = "datasets/{dataset}";
    public const string Train = "datasets/{dataset}/train";
    public const string Report = "datasets/{dataset}/report";
    public const string Score = "score/{dataset}";

    /// <summary>The local host's routes under /api, as the function app serves them.</summary>
    public static IEndpointRouteBuilder MapPipelineApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet(Datasets, (DatasetApi datasets, CancellationToken ct) => ListAsync(datasets, ct));
        api.MapGet(Dataset, (HttpRequest request, string dataset, DatasetApi datasets, CancellationToken ct) => GetAsync(datasets, request, dataset, ct));
        api.MapGet(Report, (HttpRequest request, string dataset, DatasetApi datasets, CancellationToken ct) => ReportAsync(datasets, request, dataset, ct));
        api.MapPost(Train, (HttpRequest request, string dataset, DatasetApi datasets, CancellationToken ct) => TrainAsync(datasets, request, dataset, ct));
        api.MapPost(Score, (HttpRequest request, string dataset, ScoreService scores, CancellationToken ct) => ScoreAsync(scores, request, dataset, ct));
        return app;
    }

    public static async Task<IResult> ListAsync(DatasetApi datasets, CancellationToken ct) => (await datasets.ListAsync(ct)).ToHttp();

    /// <summary>The answer links the promoted version's report by this request's own address (keeping a function key's <c>code</c>).</summary>
    public static async Task<IResult> GetAsync(DatasetApi datasets, HttpRequest request, string dataset, CancellationToken ct)
    {
        var code = request.Query.TryGetValue("code", out var key) ? $"?code={Uri.EscapeDataString(key.ToString())}" : "";
        var reportUrl = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path.Value?.TrimEnd('/')}/report{code}";
        return (await datasets.GetAsync(dataset, reportUrl, ct)).ToHttp();
    }

    /// <summary>GET .../report[?version=v]: the report page itself, as HTML.</summary>
    public static async Task<IResult> ReportAsync(DatasetApi datasets, HttpRequest request, string dataset, CancellationToken ct) =>
        (await datasets.ReportAsync(dataset, request.Query["version"].FirstOrDefault(), ct)).ToHttp();

    public static async Task<IResult> TrainAsync(DatasetApi datasets, HttpRequest request, string dataset, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        var buffer = new char[64 * 1024 + 1];
        var read = await reader.ReadBlockAsync(buffer, ct);
        if (read > 64 * 1024) return ApiResult.Fail(413, "Options too large", "Training options are at most 64 KB of JSON.").ToHttp();
        return (await datasets.TrainAsync(dataset, new string(buffer, 0, read), ct)).ToHttp();
    }

    public static async Task<IResult> ScoreAsync(ScoreService scores, HttpRequest request, string dataset, CancellationToken ct)
    {
        int? top = null;
        if (request.Query.TryGetValue("top", out var topText))
        {
            if (!int.TryParse(topText, out var k) || k < 1) return ApiResult.Fail(400, "Invalid top", "top must be a whole number of at least 1.").ToHttp();
            top = k;
        }
        var limit = scores.MaxImageBytes;
        var uploads = new List<ImageUpload>();
        var many = request.HasFormContentType;
        if (many)
        {
            IFormCollection form;
            try { form = await request.ReadFormAsync(ct); }
            catch (Exception e) when (BodyProblem(e) is { } problem) { return problem.ToHttp(); }
            foreach (var file in form.Files)
            {
                if (file.Length > limit) return TooLarge(file.FileName, limit);
                using var memory = new MemoryStream();
                await file.CopyToAsync(memory, ct);
                uploads.Add(new ImageUpload(string.IsNullOrEmpty(file.FileName) ? file.Name : file.FileName, memory.ToArray()));
            }
        }
        else
        {
            if (request.ContentLength > limit) return TooLarge("The body", limit);
            byte[] body;
            try { body = await ReadAtMostAsync(request.Body, limit + 1, ct); }
            catch (Exception e) when (BodyProblem(e) is { } problem) { return problem.ToHttp(); }
            if (body.Length > limit) return TooLarge("The body", limit);
            uploads.Add(new ImageUpload("body", body));
        }
        return (await scores.ScoreAsync(dataset, uploads, top, many, ct)).ToHttp();
    }

    /// <summary>
    /// A request body that could not be read, as the 4xx it is: cut short, stalled, too large, or not multipart.
    /// </summary>
    private static ApiResult? BodyProblem(Exception e) => e switch
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
                $"file name."),
        IOException => ApiResult.Fail(400, "Body cut short",
            "The body ended before the multipart closing boundary. Send the whole request again."),
        _ => null,
    };

    private static IResult TooLarge(string name, long limit) =>
        ApiResult.Fail(413, "Image too large", $"{name} is larger than the limit of {limit / 1048576.0:0.#} MB. Resize or recompress it.").ToHttp();

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

    public static IResult ToHttp(this ApiResult result) => result switch
    {
        { Problem: { } problem } => Results.Problem(detail: problem.Detail, statusCode: problem.Status, title: problem.Title),
        { Value: ApiFile file } => Results.Bytes(file.Content.ToArray(), file.ContentType),
        _ => Results.Json(result.Value, Json.Options, statusCode: result.Status),
    };
}
