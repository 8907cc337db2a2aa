using System.Diagnostics;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Storage;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Core.Serving;

/// <summary>POST /api/score/{dataset} with one image as the body: its predictions, most probable first, and the labels
/// that reach their thresholds; <c>model</c> is the published name asked for, if one was;
/// <c>predictionId</c> names the kept image when <c>store=true</c>.</summary>
public sealed record ScoreResponse(string Dataset, string ModelVersion, IReadOnlyList<ScoredLabel> Predictions,
    IReadOnlyList<string> Labels, string? Model = null, Guid? PredictionId = null);

/// <summary>POST /api/score/{dataset} with images as multipart/form-data: one entry each, in the order sent.</summary>
public sealed record ScoreManyResponse(string Dataset, string ModelVersion, IReadOnlyList<ImageScore> Images,
    string? Model = null);

public sealed record ImageScore(string Name, IReadOnlyList<ScoredLabel> Predictions, IReadOnlyList<string> Labels,
    Guid? PredictionId = null);

public sealed class ScoreService(ModelCache models, DatasetImageStore images, PublishedNameStore names,
    PredictionStore predictions, IOptions<PipelineOptions> options)
{
    public long MaxImageBytes => options.Value.MaxImageBytes;

    /// <summary>Every image scored by the promoted model, or the problem of the first image that cannot be.</summary>
    public Task<ApiResult<ScoreManyResponse>> ScoreAsync(string dataset, IReadOnlyList<ImageUpload> uploads,
        int? top, CancellationToken ct) => ScoreAsync(dataset, uploads, new ScoreQuery(top), ct);

    /// <summary>Every image scored by the model the query chooses (the promoted one by default), or the problem of the
    /// request or of the first image that cannot be scored.</summary>
    public async Task<ApiResult<ScoreManyResponse>> ScoreAsync(string dataset, IReadOnlyList<ImageUpload> uploads,
        ScoreQuery query, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (Check(query) is { } badQuery) return badQuery;
        if (uploads.Count == 0) return ApiResult.Fail(400, "No image",
            "Send an image as the body, or images as multipart/form-data files.");
        if (uploads.Count > options.Value.MaxImagesPerRequest)
            return ApiResult.Fail(413, "Too many images",
                $"{uploads.Count} images in one request; at most {options.Value.MaxImagesPerRequest}. " +
                "Split the request.");

        var started = Stopwatch.GetTimestamp();
        using var span = Telemetry.Source.StartActivity("score");
        span?.SetTag(Telemetry.DatasetTag, dataset);
        span?.SetTag("pipeline.images", uploads.Count);
        using var lease = await models.AcquireAsync(dataset, new ModelChoice(query.Model, query.Version), ct);
        if (lease is null) return await NoModelAsync(dataset, query, ct);

        var decoded = new List<Image<Rgb24>>();
        try
        {
            foreach (var upload in uploads)
            {
                var (image, problem) = ImageBody.Decode(upload, ImageLimits.From(options.Value));
                if (problem is not null) return problem;
                decoded.Add(image!);
            }
            var probabilities = lease.Scorer.Probabilities(decoded);
            var milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            span?.SetTag(Telemetry.ModelVersionTag, lease.Version);
            span?.SetTag("pipeline.score_ms", milliseconds);
            Telemetry.ScoreDuration.Record(milliseconds, new(Telemetry.DatasetTag, dataset),
                new(Telemetry.ModelVersionTag, lease.Version));
            var scored = uploads.Select((u, i) =>
            {
                var (shown, labels) = ScoredLabels.Shape(probabilities[i], lease.Scorer.Manifest, query);
                return new ImageScore(u.Name, shown, labels);
            }).ToList();
            if (query.Store) scored = await KeepAsync(dataset, lease.Version, uploads, scored, probabilities,
                lease.Scorer.Manifest, ct);
            return new ScoreManyResponse(dataset, lease.Version, scored, query.Model);
        }
        finally { foreach (var image in decoded) image.Dispose(); }
    }

    /// <summary>Keeps each image with every label's probability (not only the ones shown).</summary>
    private async Task<List<ImageScore>> KeepAsync(string dataset, string version, IReadOnlyList<ImageUpload> uploads,
        List<ImageScore> scored, float[][] probabilities, ModelManifest manifest,
        CancellationToken ct)
    {
        var kept = new List<ImageScore>(scored.Count);
        for (var i = 0; i < scored.Count; i++)
        {
            var all = probabilities[i].Select((p, j) => new LabelProbability(manifest.Labels[j], p)).ToList();
            var id = Guid.CreateVersion7();
            await predictions.KeepAsync(dataset, id, uploads[i].Content, version, all, ct);
            kept.Add(scored[i] with { PredictionId = id });
        }
        return kept;
    }

    private static ApiProblem? Check(ScoreQuery query)
    {
        if (query.Top is < 1) return ApiResult.Fail(400, "Invalid top", "top must be at least 1.");
        if (query.Threshold is { } t && !(t is >= 0 and <= 1))
            return ApiResult.Fail(400, "Invalid threshold", "threshold is a probability from 0 to 1, such as 0.3.");
        if (query.Model is not null && query.Version is not null)
            return ApiResult.Fail(400, "Model and version",
                "Give model (a published name) or version, not both; neither scores with the promoted version.");
        if (query.Model is not null && PublishedNameRules.Check(query.Model) is { } badModel)
            return ApiResult.Fail(400, "Invalid model name", badModel);
        if (query.Version is not null && !ModelFiles.IsVersion(query.Version))
            return ApiResult.Fail(400, "Invalid version", "A version is a name such as 20261128-180512-3fa2c1.");
        return null;
    }

    /// <summary>The 404 for a model that is not there: which one was asked for, and what there is instead.</summary>
    private async Task<ApiProblem> NoModelAsync(string dataset, ScoreQuery query, CancellationToken ct)
    {
        if (query.Version is { } version)
            return ApiResult.Fail(404, "No such version",
                $"Dataset '{dataset}' has no model version '{version}'. GET /api/datasets/{dataset}/models lists " +
                "them.");
        if (query.Model is { } name)
        {
            var published = await names.ReadAsync(dataset, ct);
            if (published.Names.TryGetValue(name, out var points))
                return ApiResult.Fail(404, "Published version gone",
                    $"'{name}' of dataset '{dataset}' points to version {points.Version}, which no longer exists. " +
                    $"Publish another version under it (POST /api/datasets/{dataset}/models/{{version}}/publish).");
            return ApiResult.Fail(404, "Unknown published name",
                $"Dataset '{dataset}' has no model published as '{name}'. Published names: " +
                $"{published.Describe()}. Publish a version under a name with POST " +
                $"/api/datasets/{dataset}/models/{{version}}/publish and {{\"name\":\"{name}\"}}.");
        }
        return await images.ExistsAsync(dataset, ct)
            ? ApiResult.Fail(404, "No model yet",
                $"Dataset '{dataset}' has no promoted model yet. GET /api/datasets/{dataset} shows its training.")
            : ApiResult.Fail(404, "Unknown dataset",
                $"There is no dataset '{dataset}'. Upload images to uploads/{dataset}/<label>/ first.");
    }
}
