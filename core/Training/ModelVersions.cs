using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contract;
using Pipeline.Core.Scoring;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Training;

/// <summary>
/// Model versions in the models container. A version exists once its manifest (model.json) does: the trainer uploads
/// every other file first and the manifest last, and every listing and reader requires it, so a version is seen whole
/// or not at all. Until then its folder is staging, which the next upload to the dataset clears if an attempt died.
/// </summary>
public sealed class ModelVersions(PipelineStorage storage, ILogger<ModelVersions> logger)
{
    public static string LatestBlob(string dataset) => $"{dataset}/{StorageNames.LatestFile}";

    public async Task<(LatestModel? Latest, ETag? ETag)> ReadLatestAsync(string dataset, CancellationToken ct)
    {
        try
        {
            var content = await storage.Models.GetBlobClient(LatestBlob(dataset)).DownloadContentAsync(ct);
            return (content.Value.Content.ToObjectFromJson<LatestModel>(Json.Options), content.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404) { return (null, null); }
    }

    /// <summary>
    /// Uploads every file of <paramref name="folder"/> to <c>&lt;dataset&gt;/&lt;version&gt;/</c>, model.json last,
    /// which makes the
    /// version visible; first clears staging that a crashed attempt left (this version's own files included).
    /// </summary>
    public async Task UploadAsync(string dataset, string version, string folder, CancellationToken ct)
    {
        await ClearStagingAsync(dataset, version, ct);
        var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .OrderBy(f => Path.GetFileName(f) == Scorer.ManifestFile).ThenBy(f => f, StringComparer.Ordinal);
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(folder, file).Replace('\\', '/');
            await storage.Models.GetBlobClient($"{dataset}/{version}/{relative}").UploadAsync(file, overwrite: true, ct);
        }
    }

    /// <summary>Names <paramref name="latest"/> the promoted version, unless latest.json changed since <paramref name="expected"/> was read.</summary>
    public async Task<bool> PromoteAsync(LatestModel latest, ETag? expected, CancellationToken ct)
    {
        var conditions = expected is { } tag ? new BlobRequestConditions { IfMatch = tag } : new BlobRequestConditions { IfNoneMatch = ETag.All };
        try
        {
            await storage.Models.GetBlobClient(LatestBlob(latest.Dataset)).UploadAsync(BinaryData.FromObjectAsJson(latest, Json.Options),
                new BlobUploadOptions { Conditions = conditions, HttpHeaders = new() { ContentType = "application/json" } }, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412) { return false; }
    }

    public async Task<(byte[] Model, ModelManifest Manifest)> DownloadAsync(string dataset, string version, CancellationToken ct)
    {
        var model = await storage.Models.GetBlobClient($"{dataset}/{version}/{Scorer.ModelFile}").DownloadContentAsync(ct);
        var manifest = await storage.Models.GetBlobClient($"{dataset}/{version}/{Scorer.ManifestFile}").DownloadContentAsync(ct);
        return (model.Value.Content.ToArray(), Scorer.ReadManifest(manifest.Value.Content.ToString()));
    }

    /// <summary>
    /// The dataset's versions that have their manifest, oldest first; a folder still being written is not one.
    /// </summary>
    public async Task<IReadOnlyList<string>> ListVersionsAsync(string dataset, CancellationToken ct) =>
        (await ListFoldersAsync(dataset, ct)).Where(f => f.Value.HasManifest).Select(f => f.Key)
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// True when <paramref name="version"/> of <paramref name="dataset"/> is whole (its manifest exists).
    /// </summary>
    public async Task<bool> ExistsAsync(string dataset, string version, CancellationToken ct) =>
        (await storage.Models.GetBlobClient(ManifestBlob(dataset, version)).ExistsAsync(ct)).Value;

    /// <summary>
    /// Deletes every version folder without a manifest (an attempt died while uploading it) and the files an earlier
    /// attempt left of <paramref name="version"/>, its manifest first so that it never shows with mixed files.
    /// One job runs per dataset at a time, so no other upload is in flight here.
    /// </summary>
    public async Task ClearStagingAsync(string dataset, string version, CancellationToken ct)
    {
        foreach (var (folder, content) in await ListFoldersAsync(dataset, ct))
        {
            if (folder != version && content.HasManifest) continue;
            logger.LogInformation("Clearing {Files} files of {Dataset} version {Version} left by an earlier attempt",
                content.Blobs.Count, dataset, folder);
            var manifest = ManifestBlob(dataset, folder);
            foreach (var blob in content.Blobs.OrderBy(b => b != manifest))
                await storage.Models.GetBlobClient(blob).DeleteIfExistsAsync(cancellationToken: ct);
        }
    }

    private static string ManifestBlob(string dataset, string version) => $"{dataset}/{version}/{Scorer.ManifestFile}";

    private sealed record VersionFolder(List<string> Blobs, bool HasManifest);

    /// <summary>
    /// Every <c>&lt;dataset&gt;/&lt;folder&gt;/...</c> blob, by folder; latest.json and training.json are files, not
    /// folders.
    /// </summary>
    private async Task<Dictionary<string, VersionFolder>> ListFoldersAsync(string dataset, CancellationToken ct)
    {
        var folders = new Dictionary<string, VersionFolder>(StringComparer.Ordinal);
        await foreach (var blob in storage.Models.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{dataset}/", ct))
        {
            var rest = blob.Name[(dataset.Length + 1)..];
            var slash = rest.IndexOf('/');
            if (slash <= 0) continue;
            var version = rest[..slash];
            var folder = folders.TryGetValue(version, out var found) ? found : folders[version] = new VersionFolder([],
                false);
            folder.Blobs.Add(blob.Name);
            if (blob.Name == ManifestBlob(dataset, version)) folders[version] = folder with { HasManifest = true };
        }
        return folders;
    }
}
