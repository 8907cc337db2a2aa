using Azure;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>
/// Reads and changes a dataset's training.json. Every change is a read-modify-write under the blob's ETag, so the
/// dispatcher, the trainer and a second dispatcher racing it never overwrite each other's news.
/// </summary>
public sealed class TrainingJobStore(PipelineStorage storage)
{
    private const string JsonType = "application/json";

    public async Task<TrainingJob?> ReadAsync(string dataset, CancellationToken ct) =>
        (await ReadWithETagAsync(dataset, ct)).Job;

    private async Task<(TrainingJob? Job, ETag? ETag)> ReadWithETagAsync(string dataset, CancellationToken ct)
    {
        try
        {
            var content = await storage.Models.GetBlobClient(BlobPaths.TrainingState(dataset)).DownloadContentAsync(ct);
            return (content.Value.Content.ToObjectFromJson<TrainingJob>(Json.Options), content.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404) { return (null, null); }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current job until it is written without a conflict. Returning null
    /// from <paramref name="change"/> leaves the blob as it is. Returns what was written (or null).
    /// </summary>
    public async Task<TrainingJob?> UpdateAsync(string dataset, Func<TrainingJob?, TrainingJob?> change,
        CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (current, etag) = await ReadWithETagAsync(dataset, ct);
            var next = change(current);
            if (next is null) return null;
            var conditions = etag is { } tag ? new BlobRequestConditions { IfMatch = tag }
                : new BlobRequestConditions { IfNoneMatch = ETag.All };
            try
            {
                var options = new BlobUploadOptions
                { Conditions = conditions, HttpHeaders = new() { ContentType = JsonType } };
                await storage.Models.GetBlobClient(BlobPaths.TrainingState(dataset))
                    .UploadAsync(BinaryData.FromObjectAsJson(next, Json.Options), options, ct);
                return next;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412 && attempt < 50)
            {
                await Task.Delay(Random.Shared.Next(20, 200), ct);
            }
        }
    }
}
