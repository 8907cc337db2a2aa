using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>Records in the rejected container, one per upload path (<see cref="BlobPaths.Rejection"/>).</summary>
public sealed class RejectionStore(PipelineStorage storage)
{
    public async Task RecordAsync(string? dataset, string uploadPath, string reason, long bytes, CancellationToken ct)
    {
        var record = new RejectedUpload(uploadPath, reason, bytes, DateTimeOffset.UtcNow);
        var options = new BlobUploadOptions { HttpHeaders = new() { ContentType = "application/json" } };
        await storage.Rejected.GetBlobClient(BlobPaths.Rejection(dataset, uploadPath))
            .UploadAsync(BinaryData.FromObjectAsJson(record, Json.Options), options, ct);
    }

    /// <summary>An upload that was fixed (same path, now a good image) loses its old rejection.</summary>
    public async Task ClearAsync(string dataset, string uploadPath, CancellationToken ct) =>
        await storage.Rejected.GetBlobClient(BlobPaths.Rejection(dataset, uploadPath))
            .DeleteIfExistsAsync(cancellationToken: ct);

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
