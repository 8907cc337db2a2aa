using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Datasets;

/// <summary>A refused upload and why; the upload itself stays where the user put it.</summary>
public sealed record RejectedUpload(string Path, string Reason, long Bytes, DateTimeOffset RejectedAt);

/// <summary>
/// Records in the rejected container, one per upload path, named by a hash of the path so that any name
/// (however odd) maps to one safe blob and a redelivered event overwrites the same record.
/// </summary>
public sealed class Rejections(PipelineStorage storage)
{
    // Uploads whose dataset name is invalid have no dataset folder to go to.
    public const string NoDataset = "_invalid";

    public static string RecordName(string? dataset, string uploadPath) =>
        $"{dataset ?? NoDataset}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(uploadPath)))[..32]}.json";

    public async Task RecordAsync(string? dataset, string uploadPath, string reason, long bytes, CancellationToken ct)
    {
        var record = new RejectedUpload(uploadPath, reason, bytes, DateTimeOffset.UtcNow);
        await storage.Rejected.GetBlobClient(RecordName(dataset, uploadPath))
            .UploadAsync(BinaryData.FromObjectAsJson(record, Json.Options), new BlobUploadOptions { HttpHeaders = new() { ContentType = "application/json" } }, ct);
    }

    /// <summary>An upload that was fixed (same path, now a good image) loses its old rejection.</summary>
    public async Task ClearAsync(string dataset, string uploadPath, CancellationToken ct) =>
        await storage.Rejected.GetBlobClient(RecordName(dataset, uploadPath)).DeleteIfExistsAsync(cancellationToken: ct);

    public async Task<IReadOnlyList<RejectedUpload>> ListAsync(string dataset, CancellationToken ct)
    {
        var records = new List<RejectedUpload>();
        await foreach (var blob in storage.Rejected.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{dataset}/", ct))
        {
            try
            {
                var content = await storage.Rejected.GetBlobClient(blob.Name).DownloadContentAsync(ct);
                if (content.Value.Content.ToObjectFromJson<RejectedUpload>(Json.Options) is { } record) records.Add(record);
            }
            catch (RequestFailedException e) when (e.Status == 404) { } // cleared while listing
            catch (JsonException) { }
        }
        return records.OrderBy(r => r.Path, StringComparer.Ordinal).ToList();
    }
}
