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
    public const string Score = "score/{dataset}";

    /// <summary>The local host's routes under /api, as the function app serves them.</summary>
    public static IEndpointRouteBuilder MapPipelineApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet(Datasets, (DatasetApi datasets, CancellationToken ct) => ListAsync(datasets, ct));
        api.MapGet(Dataset, (string dataset, DatasetApi datasets, CancellationToken ct) => GetAsync(datasets, dataset, ct));
        api.MapPost(Train, (HttpRequest request, string dataset, DatasetApi datasets, CancellationToken ct) => TrainAsync(datasets, request, dataset, ct));
        api.MapPost(Score, (HttpRequest request, string dataset, ScoreService scores, CancellationToken ct) => ScoreAsync(scores, request, dataset, ct));
        return app;
    }

    public static async Task<IResult> ListAsync(DatasetApi datasets, CancellationToken ct) => (await datasets.ListAsync(ct)).ToHttp();

    public static async Task<IResult> GetAsync(DatasetApi datasets, string dataset, CancellationToken ct) => (await datasets.GetAsync(dataset, ct)).ToHttp();

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
            catch (InvalidDataException e) { return ApiResult.Fail(413, "Request too large", e.Message).ToHttp(); }
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
            var body = await ReadAtMostAsync(request.Body, limit + 1, ct);
            if (body.Length > limit) return TooLarge("The body", limit);
            uploads.Add(new ImageUpload("body", body));
        }
        return (await scores.ScoreAsync(dataset, uploads, top, many, ct)).ToHttp();
    }

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

    public static IResult ToHttp(this ApiResult result) => result.Problem is { } problem
        ? Results.Problem(detail: problem.Detail, statusCode: problem.Status, title: problem.Title)
        : Results.Json(result.Value, Json.Options, statusCode: result.Status);
}
