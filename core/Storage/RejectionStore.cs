using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>
/// Records in the rejected container, one per upload path (<see cref="BlobPaths.Rejection"/>). Each record's path,
/// reason (cut at <see cref="MetadataReasonChars"/>) and size are also its blob's metadata, so that a listing shows
/// them without downloading a record. A dataset's activity.json says when it last had one recorded
/// (<see cref="DatasetActivity.LastRejectionAt"/>): an upload of a dataset that never had one has nothing to clear.
/// </summary>
public sealed class RejectionStore(PipelineStorage storage, DatasetActivityStore activities)
{
    private DatasetBatches<string>? clears;
    private readonly ConcurrentDictionary<string, (long ReadFrom, bool Clean)> lastReads = new(StringComparer.Ordinal);

    public RejectionStore(PipelineStorage storage) : this(storage, new DatasetActivityStore(storage)) { }

    /// <summary>Longest reason kept in metadata (the whole of it stays in the record).</summary>
    public const int MetadataReasonChars = 1000;

    /// <summary>Records downloaded per page of <see cref="ReadPageAsync"/>.</summary>
    public const int PageSize = 500;

    public async Task RecordAsync(string? dataset, string uploadPath, string reason, long bytes, CancellationToken ct)
    {
        var record = new RejectedUpload(uploadPath, reason, bytes, DateTimeOffset.UtcNow);
        var shortReason = reason.Length > MetadataReasonChars ? reason[..MetadataReasonChars] + "…" : reason;
        var options = new BlobUploadOptions
        {
            HttpHeaders = new() { ContentType = "application/json" },
            Metadata = new Dictionary<string, string>
            {
                ["path"] = Uri.EscapeDataString(uploadPath),
                ["reason"] = Uri.EscapeDataString(shortReason),
                ["bytes"] = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        };
        // Marked before the record is written: a clear that does not see the mark finds no record either.
        if (dataset is not null) await MarkAsync(dataset, record.RejectedAt, ct);
        await storage.Rejected.GetBlobClient(BlobPaths.Rejection(dataset, uploadPath))
            .UploadAsync(BinaryData.FromObjectAsJson(record, Json.Options), options, ct);
    }

    private async Task MarkAsync(string dataset, DateTimeOffset at, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (activity, etag) = await activities.ReadAsync(dataset, ct);
            if (activity?.LastRejectionAt is { } last && last >= at) return;
            if (await activities.TryWriteAsync(dataset, (activity ?? new DatasetActivity()) with
            {
                LastRejectionAt = at,
            }, etag, ct)) return;
            if (attempt >= 50) throw new InvalidOperationException(
                $"The activity of dataset '{dataset}' kept changing under 50 writes; the upload is tried again.");
            await Task.Delay(Random.Shared.Next(5, 50), ct);
        }
    }

    /// <summary>
    /// An upload that was fixed (same path, now a good image) loses its old rejection. The uploads of one dataset
    /// cleared together read its activity.json once, and a read that began after <paramref name="readFrom"/> (a
    /// <see cref="Stopwatch.GetTimestamp"/> taken before the upload was read) answers for this one too: only where
    /// the dataset has had rejections is each record deleted.
    /// </summary>
    public async Task ClearAsync(string dataset, string uploadPath, long readFrom, CancellationToken ct)
    {
        if (lastReads.TryGetValue(dataset, out var last) && last.Clean && last.ReadFrom >= readFrom) return;
        await LazyInitializer.EnsureInitialized(ref clears, () => new(ClearBatchAsync))
            .AddAsync(dataset, uploadPath, ct);
    }

    private async Task ClearBatchAsync(string dataset, IReadOnlyList<string> uploads, CancellationToken ct)
    {
        var readFrom = Stopwatch.GetTimestamp();
        var (activity, _) = await activities.ReadAsync(dataset, ct);
        // No activity.json: a dataset's first uploads, or one split before the mark was kept.
        var clean = activity is not null && activity.LastRejectionAt is null;
        lastReads.AddOrUpdate(dataset, (readFrom, clean),
            (_, old) => old.ReadFrom > readFrom ? old : (readFrom, clean));
        if (clean) return;
        await Parallel.ForEachAsync(uploads.Distinct(StringComparer.Ordinal),
            new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (upload, token) =>
                await storage.Rejected.GetBlobClient(BlobPaths.Rejection(dataset, upload))
                    .DeleteIfExistsAsync(cancellationToken: token));
    }

    /// <summary>Every rejection of the dataset, sorted by path; see
    /// <see cref="ListAsync(string, int, CancellationToken)"/>.</summary>
    public async Task<IReadOnlyList<RejectedUpload>> ListAsync(string dataset, CancellationToken ct) =>
        (await ListAsync(dataset, int.MaxValue, ct)).Shown;

    /// <summary>
    /// One listing: how many rejections the dataset has, and the first <paramref name="show"/> of them (sorted by
    /// path) from their metadata; only a record written before its metadata was kept is downloaded.
    /// </summary>
    public async Task<(IReadOnlyList<RejectedUpload> Shown, int Count)> ListAsync(string dataset, int show,
        CancellationToken ct)
    {
        var records = new List<RejectedUpload>();
        var count = 0;
        await foreach (var blob in storage.Rejected.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, $"{dataset}/",
            ct))
        {
            count++;
            if (records.Count >= show) continue;
            if ((FromMetadata(blob) ?? await DownloadAsync(blob.Name, ct)) is { } record) records.Add(record);
        }
        return (records.OrderBy(r => r.Path, StringComparer.Ordinal).ToList(), count);
    }

    /// <summary>Counts the dataset's rejections (one listing, nothing downloaded).</summary>
    public async Task<int> CountAsync(string dataset, CancellationToken ct)
    {
        var count = 0;
        await foreach (var _ in storage.Rejected.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{dataset}/", ct))
            count++;
        return count;
    }

    /// <summary>
    /// The whole records of one page of at most <see cref="PageSize"/> rejections, downloaded, and the continuation
    /// that reads the next page (null after the last).
    /// </summary>
    public async Task<(IReadOnlyList<RejectedUpload> Records, string? Continuation)> ReadPageAsync(string dataset,
        string? continuation, CancellationToken ct)
    {
        var pages = storage.Rejected.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{dataset}/", ct)
            .AsPages(continuation, PageSize);
        await foreach (var page in pages)
        {
            var records = new List<RejectedUpload>();
            foreach (var blob in page.Values)
                if (await DownloadAsync(blob.Name, ct) is { } record) records.Add(record);
            return (records, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
        }
        return ([], null);
    }

    private static RejectedUpload? FromMetadata(BlobItem blob) =>
        blob.Metadata is { } m && m.TryGetValue("path", out var path) && m.TryGetValue("reason", out var reason)
            ? new RejectedUpload(Uri.UnescapeDataString(path), Uri.UnescapeDataString(reason),
                m.TryGetValue("bytes", out var size) && long.TryParse(size, out var bytes) ? bytes : 0,
                blob.Properties.LastModified ?? DateTimeOffset.MinValue)
            : null;

    private async Task<RejectedUpload?> DownloadAsync(string name, CancellationToken ct)
    {
        try
        {
            var content = await storage.Rejected.GetBlobClient(name).DownloadContentAsync(ct);
            return content.Value.Content.ToObjectFromJson<RejectedUpload>(Json.Options);
        }
        catch (RequestFailedException e) when (e.Status == 404) { return null; } // cleared while listing
        catch (JsonException) { return null; }
    }
}
