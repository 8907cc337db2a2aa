using System.Globalization;
using Azure;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;

namespace Pipeline.Core.Storage;

/// <summary>
/// Scored images kept for review, in the predictions container: the image and its <see cref="KeptPrediction"/>. The
/// record's blob carries its margin and time as metadata, so a listing orders a dataset's predictions without
/// reading each record.
/// </summary>
public sealed class PredictionStore(PipelineStorage storage)
{
    private const string MarginKey = "margin";

    /// <summary>Keeps an image (already decoded once, so its format is known) with its predictions.</summary>
    public async Task<KeptPrediction> KeepAsync(string dataset, Guid id, byte[] image, string modelVersion,
        IReadOnlyList<LabelProbability> predictions, CancellationToken ct)
    {
        var format = FormatOf(image);
        var imageName = $"{id:D}{ImageFile.Extension(format)}";
        await storage.Predictions.GetBlobClient($"{dataset}/{imageName}").UploadAsync(new BinaryData(image),
            new BlobUploadOptions { HttpHeaders = new() { ContentType = $"image/{format.ToLowerInvariant()}" } }, ct);
        var kept = new KeptPrediction(id, dataset, modelVersion, DateTimeOffset.UtcNow, imageName, predictions,
            KeptPrediction.MarginOf(predictions));
        await storage.Predictions.GetBlobClient(RecordName(dataset, id)).UploadAsync(
            BinaryData.FromObjectAsJson(kept, Json.Options), new BlobUploadOptions
            {
                HttpHeaders = new() { ContentType = "application/json" },
                Metadata = new Dictionary<string, string>
                {
                    [MarginKey] = kept.Margin.ToString("R", CultureInfo.InvariantCulture),
                },
            }, ct);
        return kept;
    }

    /// <summary>A page of the dataset's kept predictions: the least certain first, or the newest first.</summary>
    public async Task<(IReadOnlyList<KeptPrediction> Page, int Total)> ListAsync(string dataset, bool uncertainFirst,
        int take, int skip, CancellationToken ct)
    {
        var records = new List<(string Name, double Margin, DateTimeOffset Created)>();
        await foreach (var blob in storage.Predictions.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None,
            $"{dataset}/", ct))
        {
            if (!blob.Name.EndsWith(".json", StringComparison.Ordinal)) continue;
            var margin = blob.Metadata.TryGetValue(MarginKey, out var m)
                && double.TryParse(m, CultureInfo.InvariantCulture, out var parsed) ? parsed : 1;
            records.Add((blob.Name, margin, blob.Properties.CreatedOn ?? DateTimeOffset.MinValue));
        }
        var ordered = uncertainFirst
            ? records.OrderBy(r => r.Margin).ThenByDescending(r => r.Created)
            : records.OrderByDescending(r => r.Created).ThenBy(r => r.Name, StringComparer.Ordinal);
        var page = new List<KeptPrediction>();
        foreach (var (name, _, _) in ordered.Skip(skip).Take(take))
            if (await ReadRecordAsync(name, ct) is { } kept) page.Add(kept);
        return (page, records.Count);
    }

    public Task<KeptPrediction?> ReadAsync(string dataset, Guid id, CancellationToken ct) =>
        ReadRecordAsync(RecordName(dataset, id), ct);

    /// <summary>The kept image's bytes.</summary>
    public async Task<BinaryData> ReadImageAsync(KeptPrediction kept, CancellationToken ct) =>
        (await storage.Predictions.GetBlobClient($"{kept.Dataset}/{kept.Image}").DownloadContentAsync(ct)).Value
        .Content;

    /// <summary>Removes the record and its image; false when there was no such prediction.</summary>
    public async Task<bool> DeleteAsync(KeptPrediction kept, CancellationToken ct)
    {
        await storage.Predictions.GetBlobClient($"{kept.Dataset}/{kept.Image}").DeleteIfExistsAsync(
            cancellationToken: ct);
        return (await storage.Predictions.GetBlobClient(RecordName(kept.Dataset, kept.Id))
            .DeleteIfExistsAsync(cancellationToken: ct)).Value;
    }

    /// <summary>Deletes every blob older than <paramref name="days"/> (the local host's stand-in for Azure's
    /// lifecycle rule); returns how many.</summary>
    public async Task<int> DeleteOlderThanAsync(int days, CancellationToken ct)
    {
        var before = DateTimeOffset.UtcNow.AddDays(-days);
        var deleted = 0;
        await foreach (var blob in storage.Predictions.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, ct))
        {
            if ((blob.Properties.CreatedOn ?? DateTimeOffset.MaxValue) >= before) continue;
            if ((await storage.Predictions.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: ct)).Value)
                deleted++;
        }
        return deleted;
    }

    /// <summary>The image's format; the image was decoded already, so only limits could make this fail.</summary>
    private static string FormatOf(byte[] image)
    {
        try
        {
            return ImageFile.Identify(image, ImageLimits.Default with
            { MaxBytes = long.MaxValue, MaxPixels = long.MaxValue }).Format;
        }
        catch (ImageRejectedException) { return "octet-stream"; }
    }

    private static string RecordName(string dataset, Guid id) => $"{dataset}/{id:D}.json";

    private async Task<KeptPrediction?> ReadRecordAsync(string name, CancellationToken ct)
    {
        try
        {
            var content = await storage.Predictions.GetBlobClient(name).DownloadContentAsync(ct);
            return content.Value.Content.ToObjectFromJson<KeptPrediction>(Json.Options);
        }
        catch (RequestFailedException e) when (e.Status == 404) { return null; }
    }
}
