using Azure;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>
/// Reads and changes a dataset's published.json. Every change is a read-modify-write under the blob's ETag, so two
/// publishers never lose each other's names and a rollback is one atomic write that scoring sees whole.
/// </summary>
public sealed class PublishedNameStore(PipelineStorage storage)
{
    private const string JsonType = "application/json";

    /// <summary>The dataset's names; empty when none was ever published.</summary>
    public async Task<PublishedModels> ReadAsync(string dataset, CancellationToken ct) =>
        (await ReadWithETagAsync(dataset, ct)).Names ?? PublishedModels.Empty(dataset);

    private async Task<(PublishedModels? Names, ETag? ETag)> ReadWithETagAsync(string dataset, CancellationToken ct)
    {
        try
        {
            var content = await storage.Models.GetBlobClient(BlobPaths.Published(dataset)).DownloadContentAsync(ct);
            return (content.Value.Content.ToObjectFromJson<PublishedModels>(Json.Options), content.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404) { return (null, null); }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current names until it is written without a conflict; returning null
    /// from it leaves the blob as it is. Returns the names as they were before and after.
    /// </summary>
    public async Task<(PublishedModels Before, PublishedModels After)> UpdateAsync(string dataset,
        Func<PublishedModels, PublishedModels?> change, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (found, etag) = await ReadWithETagAsync(dataset, ct);
            var current = found ?? PublishedModels.Empty(dataset);
            if (change(current) is not { } next) return (current, current);
            var conditions = etag is { } tag ? new BlobRequestConditions { IfMatch = tag }
                : new BlobRequestConditions { IfNoneMatch = ETag.All };
            try
            {
                var options = new BlobUploadOptions
                { Conditions = conditions, HttpHeaders = new() { ContentType = JsonType } };
                await storage.Models.GetBlobClient(BlobPaths.Published(dataset))
                    .UploadAsync(BinaryData.FromObjectAsJson(next, Json.Options), options, ct);
                return (current, next);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412 && attempt < 50)
            {
                await Task.Delay(Random.Shared.Next(20, 200), ct);
            }
        }
    }
}
