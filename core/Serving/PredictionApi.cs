using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Serving;

/// <summary>GET /api/datasets/{dataset}/predictions: a page of kept predictions and how many there are.</summary>
public sealed record PredictionList(string Dataset, string Order, int Total, int Skip,
    IReadOnlyList<KeptPrediction> Predictions);

/// <summary>The body of POST .../predictions/{id}/label.</summary>
public sealed record LabelRequest(IReadOnlyList<string>? Labels);

/// <summary>What labelling answers: where the image went; the prediction is no longer kept.</summary>
public sealed record LabelResponse(string Dataset, Guid Id, IReadOnlyList<string> Labels,
    IReadOnlyList<string> Uploads);

/// <summary>
/// Custom Vision's improve-your-classifier loop: scored images are kept (<see cref="PredictionStore"/>), listed least
/// certain first (Smart Labeler's order), and labelling one copies it into uploads/{dataset}/{label}/, where the
/// split takes it as any upload and the next training includes it.
/// </summary>
public sealed class PredictionApi(PredictionStore predictions, PipelineStorage storage)
{
    public const int MaxTake = 256;

    public async Task<ApiResult<PredictionList>> ListAsync(string dataset, string? order, string? take,
        string? skip, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        order ??= "newest";
        if (order is not ("newest" or "uncertain"))
            return ApiResult.Fail(400, "Invalid order", $"order is 'uncertain' or 'newest', not '{order}'.");
        if (!Whole(take, 50, out var t) || t is < 1 or > MaxTake)
            return ApiResult.Fail(400, "Invalid take", $"take is a whole number from 1 to {MaxTake}.");
        if (!Whole(skip, 0, out var s) || s < 0)
            return ApiResult.Fail(400, "Invalid skip", "skip is a whole number of at least 0.");
        var (page, total) = await predictions.ListAsync(dataset, order == "uncertain", t, s, ct);
        return new PredictionList(dataset, order, total, s, page);
    }

    /// <summary>Body <c>{"labels":["rose"]}</c>: copies the image under each label in uploads, then lets the
    /// prediction go.</summary>
    public async Task<ApiResult<LabelResponse>> LabelAsync(string dataset, string id, string body,
        CancellationToken ct)
    {
        var found = await FindAsync(dataset, id, ct);
        if (found.Value is not { } kept) return found.Problem!;
        LabelRequest? request;
        try
        {
            request = string.IsNullOrWhiteSpace(body) ? null
                : JsonSerializer.Deserialize<LabelRequest>(body, Json.Options);
        }
        catch (JsonException) { request = null; }
        var labels = request?.Labels?.Select(l => Names.NormalizeLabel(l ?? "")).Distinct().ToList() ?? [];
        if (labels.Count == 0)
            return ApiResult.Fail(400, "No label", "Send the image's labels as {\"labels\":[\"rose\"]} " +
                $"({ScoredLabels.NegativeLabel} for an image of none of them).");
        if (labels.Select(Names.CheckLabel).FirstOrDefault(r => r is not null) is { } badLabel)
            return ApiResult.Fail(400, "Invalid label", badLabel);
        var image = await predictions.ReadImageAsync(kept, ct);
        var uploads = new List<string>();
        foreach (var label in labels)
        {
            var name = $"{dataset}/{label}/{kept.Image}";
            await storage.Uploads.GetBlobClient(name).UploadAsync(image, overwrite: true, ct);
            uploads.Add($"{StorageNames.Uploads}/{name}");
        }
        await predictions.DeleteAsync(kept, ct);
        return new LabelResponse(dataset, kept.Id, labels, uploads);
    }

    public async Task<ApiResult<KeptPrediction>> DeleteAsync(string dataset, string id, CancellationToken ct)
    {
        var found = await FindAsync(dataset, id, ct);
        if (found.Value is not { } kept) return found.Problem!;
        await predictions.DeleteAsync(kept, ct);
        return kept;
    }

    private async Task<ApiResult<KeptPrediction>> FindAsync(string dataset, string id, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (!Guid.TryParse(id, out var guid))
            return ApiResult.Fail(400, "Invalid id", "A prediction id is a GUID, as the listing shows it.");
        return await predictions.ReadAsync(dataset, guid, ct) is { } kept ? kept
            : ApiResult.Fail(404, "No such prediction",
                $"Dataset '{dataset}' keeps no prediction '{guid}' (labelled, deleted, or older than the kept days). " +
                $"GET /api/datasets/{dataset}/predictions lists them.");
    }

    private static bool Whole(string? text, int fallback, out int value)
    {
        value = fallback;
        return text is null || int.TryParse(text, System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out value);
    }
}
