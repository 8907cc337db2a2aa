using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>One accepted image: <c>&lt;split
/// container&gt;/&lt;dataset&gt;/&lt;label&gt;/&lt;hash&gt;.&lt;ext&gt;</c>.</summary>
public sealed record DatasetImage(Split Split, string Label, string BlobName, long Bytes, DateTimeOffset LastModified);

/// <summary>Lists a dataset's accepted images in train and test.</summary>
public sealed class DatasetImageStore(PipelineStorage storage)
{
    public async Task<IReadOnlyList<DatasetImage>> ListAsync(string dataset, CancellationToken ct)
    {
        var images = new List<DatasetImage>();
        foreach (var split in new[] { Split.Train, Split.Test })
        {
            await foreach (var blob in storage.SplitContainer(split).GetBlobsAsync(BlobTraits.None, BlobStates.None,
                $"{dataset}/", ct))
            {
                var parts = blob.Name.Split('/');
                if (parts.Length != 3) continue;
                images.Add(new DatasetImage(split, parts[1], blob.Name, blob.Properties.ContentLength ?? 0,
                    blob.Properties.LastModified ?? blob.Properties.CreatedOn ?? DateTimeOffset.MinValue));
            }
        }
        return images;
    }

    /// <summary>
    /// Names of datasets, sorted: those with a blob in models (the split writes every dataset's activity.json there
    /// with its first image; dispatch, training and the status add theirs) or a rejection. Only these two containers
    /// are listed by folder: such a listing of train, test or uploads costs as much as their blobs on Azurite.
    /// </summary>
    public async Task<IReadOnlyList<string>> ListDatasetsAsync(CancellationToken ct) =>
        (await ListDatasetFoldersAsync(ct)).Names;

    /// <summary>The dataset names of <see cref="ListDatasetsAsync"/>, and which of them have rejections: the two
    /// listings by folder, sent together.</summary>
    public async Task<(IReadOnlyList<string> Names, IReadOnlySet<string> WithRejections)> ListDatasetFoldersAsync(
        CancellationToken ct)
    {
        var models = ListFoldersAsync(storage.Models, ct);
        var rejected = ListFoldersAsync(storage.Rejected, ct);
        var names = new SortedSet<string>(await models, StringComparer.Ordinal);
        names.UnionWith(await rejected);
        return (names.ToList(), await rejected);
    }

    private static async Task<HashSet<string>> ListFoldersAsync(BlobContainerClient container, CancellationToken ct)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var item in container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", null, ct))
            if (item.IsPrefix && Names.CheckDataset(item.Prefix.TrimEnd('/')) is null)
                names.Add(item.Prefix.TrimEnd('/'));
        return names;
    }

    /// <summary>uploads/&lt;dataset&gt;/dataset.json, or the defaults where it is absent or not valid (the split
    /// records why not).</summary>
    public async Task<DatasetSettings> ReadSettingsAsync(string dataset, CancellationToken ct)
    {
        try
        {
            var content = await storage.Uploads.GetBlobClient(BlobPaths.DatasetSettings(dataset))
                .DownloadContentAsync(ct);
            return DatasetSettings.Parse(content.Value.Content.ToArray(), out _) ?? new DatasetSettings();
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404) { return new DatasetSettings(); }
    }

    public async Task<bool> ExistsAsync(string dataset, CancellationToken ct)
    {
        foreach (var container in new[] { storage.Uploads, storage.Train, storage.Test, storage.Models })
            await foreach (var page in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{dataset}/", ct)
                .AsPages(pageSizeHint: 1))
                if (page.Values.Count > 0) return true;
                else if (string.IsNullOrEmpty(page.ContinuationToken)) break;
        return false;
    }
}
