using System.Diagnostics;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Scoring;
using Pipeline.Core.Storage;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Core.Serving;

/// <summary>POST /api/score/{dataset} with one image as the body: its predictions, most probable first.</summary>
public sealed record ScoreResponse(string Dataset, string ModelVersion, IReadOnlyList<Prediction> Predictions);

/// <summary>POST /api/score/{dataset} with images as multipart/form-data: one entry each, in the order sent.</summary>
public sealed record ScoreManyResponse(string Dataset, string ModelVersion, IReadOnlyList<ImageScore> Images);

public sealed record ImageScore(string Name, IReadOnlyList<Prediction> Predictions);

public sealed class ScoreService(ModelCache models, DatasetImageStore images, IOptions<PipelineOptions> options)
{
    public long MaxImageBytes => options.Value.MaxImageBytes;

    /// <summary>Every image scored by the promoted model, or the problem of the first image that cannot be.</summary>
    public async Task<ApiResult<ScoreManyResponse>> ScoreAsync(string dataset, IReadOnlyList<ImageUpload> uploads,
        int? top, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (top is < 1) return ApiResult.Fail(400, "Invalid top", "top must be at least 1.");
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
        using var lease = await models.AcquireAsync(dataset, ct);
        if (lease is null)
            return await images.ExistsAsync(dataset, ct)
                ? ApiResult.Fail(404, "No model yet",
                    $"Dataset '{dataset}' has no promoted model yet. GET /api/datasets/{dataset} shows its training.")
                : ApiResult.Fail(404, "Unknown dataset",
                    $"There is no dataset '{dataset}'. Upload images to uploads/{dataset}/<label>/ first.");

        var decoded = new List<Image<Rgb24>>();
        try
        {
            foreach (var upload in uploads)
            {
                var (image, problem) = ImageBody.Decode(upload, ImageLimits.From(options.Value));
                if (problem is not null) return problem;
                decoded.Add(image!);
            }
            var predictions = lease.Scorer.Score(decoded, top);
            var milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            span?.SetTag(Telemetry.ModelVersionTag, lease.Version);
            span?.SetTag("pipeline.score_ms", milliseconds);
            Telemetry.ScoreDuration.Record(milliseconds, new(Telemetry.DatasetTag, dataset),
                new(Telemetry.ModelVersionTag, lease.Version));
            return new ScoreManyResponse(dataset, lease.Version, uploads.Select((u, i) => new ImageScore(u.Name,
                predictions[i])).ToList());
        }
        finally { foreach (var image in decoded) image.Dispose(); }
    }
}
