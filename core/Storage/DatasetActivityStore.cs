using Azure;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>Reads and writes a dataset's <see cref="DatasetActivity"/>, every write conditional on what was
/// read.</summary>
public sealed class DatasetActivityStore(PipelineStorage storage)
{
    public async Task<(DatasetActivity? Activity, ETag? ETag)> ReadAsync(string dataset, CancellationToken ct)
    {
        try
        {
            var content = await storage.Models.GetBlobClient(BlobPaths.Activity(dataset)).DownloadContentAsync(ct);
            return (content.Value.Content.ToObjectFromJson<DatasetActivity>(Json.Options), content.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404) { return (null, null); }
    }

    /// <summary>Writes <paramref name="activity"/> if the blob is still as read (<paramref name="etag"/>, null: still
    /// absent); false when another writer came first.</summary>
    public async Task<bool> TryWriteAsync(string dataset, DatasetActivity activity, ETag? etag, CancellationToken ct)
    {
        var conditions = etag is { } tag ? new BlobRequestConditions { IfMatch = tag }
            : new BlobRequestConditions { IfNoneMatch = ETag.All };
        try
        {
            await storage.Models.GetBlobClient(BlobPaths.Activity(dataset)).UploadAsync(
                BinaryData.FromObjectAsJson(activity, Json.Options),
                new BlobUploadOptions
                {
                    Conditions = conditions,
                    HttpHeaders = new() { ContentType = "application/json" },
                }, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412) { return false; }
    }
}
