using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Serving;

/// <summary>Custom Vision's <c>ImagePrediction</c> (Prediction API v3.0 and v3.1, classification).</summary>
public sealed record ImagePrediction(Guid Id, Guid Project, Guid Iteration, DateTime Created,
    IReadOnlyList<TagPrediction> Predictions);

/// <summary>Custom Vision's <c>Prediction</c>: <see cref="TagType"/> (Regular or Negative) only in v3.1.</summary>
public sealed record TagPrediction(double Probability, Guid TagId, string TagName, string? TagType = null);

/// <summary>Custom Vision's <c>CustomVisionError</c>: one of its error codes and a message.</summary>
public sealed record CustomVisionError(string Code, string Message);

/// <summary>What a Custom Vision route answers: a prediction, or an error with its status.</summary>
public readonly record struct CustomVisionResult(int Status, ImagePrediction? Value, CustomVisionError? Error)
{
    public static implicit operator CustomVisionResult(ImagePrediction value) => new(200, value, null);

    public static CustomVisionResult Fail(int status, string code, string message) =>
        new(status, null, new CustomVisionError(code, message));
}

/// <summary>The body of the url routes.</summary>
public sealed record ImageUrlBody(string? Url);

/// <summary>
/// The Custom Vision Prediction API on this pipeline: a project is a dataset (its project id or its name), a
/// published name is a published name here (<c>latest</c>: the promoted version), a tag is a label. Scoring is
/// <see cref="ScoreService"/>'s, every label returned, most probable first.
/// </summary>
public sealed class CustomVisionApi(ScoreService scores, ProjectStore projects, DatasetImageStore images,
    PredictionStore predictions, ImageUrlFetch fetch, IOptions<CustomVisionOptions> options)
{
    public const string Latest = "latest";

    public long MaxImageBytes => scores.MaxImageBytes;
    private static readonly string[] ApiVersions = ["v3.0", "v3.1"];

    /// <summary>Checks what every route checks before reading a body: the API version and the key.</summary>
    public CustomVisionResult? Check(string apiVersion, string? predictionKey)
    {
        if (!ApiVersions.Contains(apiVersion, StringComparer.OrdinalIgnoreCase))
            return CustomVisionResult.Fail(404, "NotFound",
                $"Custom Vision Prediction API '{apiVersion}' is not served here; use v3.0 or v3.1.");
        var expected = options.Value.PredictionKey;
        if (string.IsNullOrEmpty(expected))
            return options.Value.AllowWithoutKey ? (CustomVisionResult?)null
                : CustomVisionResult.Fail(401, "Unauthorized",
                    "No prediction key is configured on the server (CustomVision__PredictionKey), so every call " +
                    "is refused.");
        var given = Encoding.UTF8.GetBytes(predictionKey ?? "");
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(expected))
            ? (CustomVisionResult?)null
            : CustomVisionResult.Fail(401, "Unauthorized",
                "Access denied due to a missing or wrong Prediction-Key header. Send the prediction key of this " +
                "endpoint.");
    }

    /// <summary>POST .../classify/iterations/{publishedName}/image[/nostore]: the image the request carried, or the
    /// problem reading it.</summary>
    public async Task<CustomVisionResult> ClassifyImageAsync(string apiVersion, string projectId,
        string publishedName, ImageUpload? image, ApiProblem? unreadable, bool store, CancellationToken ct)
    {
        var (dataset, project, bad) = await ResolveAsync(projectId, publishedName, ct);
        if (bad is { } problem) return problem;
        if (unreadable is not null) return FromScoreProblem(unreadable);
        if (image is null || image.Content.Length == 0)
            return CustomVisionResult.Fail(400, "BadRequestImageStream",
                "No image: send it as the body (application/octet-stream) or as the multipart part 'imageData'.");
        return await ClassifyAsync(apiVersion, dataset!, project!, publishedName, image, store, ct);
    }

    /// <summary>POST .../classify/iterations/{publishedName}/url[/nostore], body
    /// <c>{"url":"https://..."}</c>.</summary>
    public async Task<CustomVisionResult> ClassifyUrlAsync(string apiVersion, string projectId, string publishedName,
        string body, bool store, CancellationToken ct)
    {
        var (dataset, project, bad) = await ResolveAsync(projectId, publishedName, ct);
        if (bad is { } problem) return problem;
        string? url;
        try { url = JsonSerializer.Deserialize<ImageUrlBody>(body, Json.Options)?.Url; }
        catch (JsonException) { url = null; }
        if (string.IsNullOrWhiteSpace(url))
            return CustomVisionResult.Fail(400, "BadRequestImageUrl",
                "The body is {\"url\":\"https://...\"}, the url of the image to classify.");
        var (image, fetchProblem) = await fetch.FetchAsync(url, ct);
        if (fetchProblem is not null) return CustomVisionResult.Fail(400, "BadRequestImageUrl", fetchProblem);
        return await ClassifyAsync(apiVersion, dataset!, project!, publishedName, image!, store, ct);
    }

    private async Task<CustomVisionResult> ClassifyAsync(string apiVersion, string dataset, DatasetProject project,
        string publishedName, ImageUpload image, bool store, CancellationToken ct)
    {
        var model = IsLatest(publishedName) ? null : publishedName;
        var result = await scores.ScoreAsync(dataset, [image], new ScoreQuery(All: true, Model: model), ct);
        if (result.Value is not { } scored) return FromScoreProblem(result.Problem!, publishedName);
        var v31 = string.Equals(apiVersion, "v3.1", StringComparison.OrdinalIgnoreCase);
        var tags = scored.Images[0].Predictions.Select(p => new TagPrediction(p.Probability,
            project.TagId(p.Label), p.Label,
            v31 ? (ScoredLabels.IsNegative(p.Label) ? "Negative" : "Regular") : null)).ToList();
        var id = Guid.CreateVersion7();
        // The image routes keep what they scored (as Custom Vision does); the nostore routes keep nothing.
        if (store)
            await predictions.KeepAsync(dataset, id, image.Content, scored.ModelVersion,
                scored.Images[0].Predictions.Select(p => new LabelProbability(p.Label, p.Probability)).ToList(), ct);
        return new ImagePrediction(id, project.ProjectId, project.IterationId(scored.ModelVersion), DateTime.UtcNow,
            tags);
    }

    /// <summary>The dataset a project id (or a dataset name) stands for, and a published name that can be.</summary>
    private async Task<(string? Dataset, DatasetProject? Project, CustomVisionResult? Problem)> ResolveAsync(
        string projectId, string publishedName, CancellationToken ct)
    {
        string? dataset = null;
        if (Guid.TryParse(projectId, out var id)) dataset = await projects.FindAsync(id, ct);
        if (dataset is null && Names.CheckDataset(projectId) is null && await images.ExistsAsync(projectId, ct))
            dataset = projectId;
        if (dataset is null)
            return (null, null, CustomVisionResult.Fail(404, "NotFoundProject",
                $"No project '{Names.Shown(projectId)}': give a dataset's project id (GET /api/datasets/{{dataset}} " +
                "shows it) or the dataset's name."));
        if (!IsLatest(publishedName) && PublishedNameRules.Check(publishedName) is { } badName)
            return (null, null, CustomVisionResult.Fail(404, "NotFoundIteration", badName));
        return (dataset, await projects.GetOrCreateAsync(dataset, ct), null);
    }

    private static bool IsLatest(string publishedName) =>
        string.Equals(publishedName, Latest, StringComparison.OrdinalIgnoreCase);

    /// <summary>Our problem in Custom Vision's terms: its code and the status it answers with.</summary>
    private static CustomVisionResult FromScoreProblem(ApiProblem problem, string? publishedName = null) =>
        problem.Status switch
        {
            404 => CustomVisionResult.Fail(404, "NotFoundIteration", IsLatest(publishedName ?? "")
                ? $"{problem.Detail} ('latest' is the promoted version.)" : problem.Detail),
            408 => CustomVisionResult.Fail(408, "BadRequestImageStream", problem.Detail),
            413 => CustomVisionResult.Fail(400, "BadRequestImageSizeBytes", problem.Detail),
            400 or 415 => CustomVisionResult.Fail(400, "BadRequestImageFormat", problem.Detail),
            _ => CustomVisionResult.Fail(problem.Status, "ErrorPrediction", problem.Detail),
        };
}
