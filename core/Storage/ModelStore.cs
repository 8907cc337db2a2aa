using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>
/// Model versions in the models container. A version exists once its manifest (model.json) does: the trainer uploads
/// every other file first and the manifest last, and every listing and reader requires it, so a version is seen whole
/// or not at all. Until then its folder is staging, which the next upload to the dataset clears if an attempt died.
/// </summary>
public sealed class ModelStore(PipelineStorage storage, ILogger<ModelStore> logger)
{
    private const string JsonType = "application/json";

    public async Task<(LatestModel? Latest, ETag? ETag)> ReadLatestAsync(string dataset, CancellationToken ct)
    {
        try
        {
            var content = await storage.Models.GetBlobClient(BlobPaths.Latest(dataset)).DownloadContentAsync(ct);
            return (content.Value.Content.ToObjectFromJson<LatestModel>(Json.Options), content.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404) { return (null, null); }
    }

    /// <summary>
    /// Uploads every file of <paramref name="folder"/> to <c>&lt;dataset&gt;/&lt;version&gt;/</c>, model.json last,
    /// which makes the version visible; first clears staging that a crashed attempt left (this version's own files
    /// included).
    /// </summary>
    public async Task UploadAsync(string dataset, string version, string folder, CancellationToken ct)
    {
        await ClearStagingAsync(dataset, version, ct);
        var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .OrderBy(f => Path.GetFileName(f) == ModelFiles.Manifest).ThenBy(f => f, StringComparer.Ordinal);
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(folder, file).Replace('\\', '/');
            await storage.Models.GetBlobClient(ModelFiles.Blob(dataset, version, relative)).UploadAsync(file,
                overwrite: true, ct);
        }
    }

    /// <summary>Names <paramref name="latest"/> the promoted version, unless latest.json changed since
    /// <paramref name="expected"/> was read.</summary>
    public async Task<bool> PromoteAsync(LatestModel latest, ETag? expected, CancellationToken ct)
    {
        var conditions = expected is { } tag ? new BlobRequestConditions { IfMatch = tag }
            : new BlobRequestConditions { IfNoneMatch = ETag.All };
        try
        {
            var options = new BlobUploadOptions
            { Conditions = conditions, HttpHeaders = new() { ContentType = JsonType } };
            await storage.Models.GetBlobClient(BlobPaths.Latest(latest.Dataset))
                .UploadAsync(BinaryData.FromObjectAsJson(latest, Json.Options), options, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412) { return false; }
    }

    /// <summary>One file of a version (<see cref="ModelFiles"/>).</summary>
    public BlobClient VersionFile(string dataset, string version,
        string file) => storage.Models.GetBlobClient(ModelFiles.Blob(dataset, version, file));

    public async Task<(byte[] Model, ModelManifest Manifest)> DownloadAsync(string dataset, string version,
        CancellationToken ct)
    {
        var model = await VersionFile(dataset, version, ModelFiles.Model).DownloadContentAsync(ct);
        var manifest = await VersionFile(dataset, version, ModelFiles.Manifest).DownloadContentAsync(ct);
        return (model.Value.Content.ToArray(), ModelFiles.ReadManifest(manifest.Value.Content.ToString()));
    }

    /// <summary>A version's manifest; null while the version is being written (model.json comes last) or when it is
    /// absent.</summary>
    public async Task<ModelManifest?> ReadManifestAsync(string dataset, string version, CancellationToken ct)
    {
        try
        {
            var content = await VersionFile(dataset, version, ModelFiles.Manifest).DownloadContentAsync(ct);
            return ModelFiles.ReadManifest(content.Value.Content.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404) { return null; }
    }

    /// <summary>The names of a version's files, sorted.</summary>
    public async Task<IReadOnlyList<string>> ListFilesAsync(string dataset, string version, CancellationToken ct)
    {
        var prefix = ModelFiles.Blob(dataset, version, "");
        var files = new List<string>();
        await foreach (var blob in storage.Models.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, ct))
            files.Add(blob.Name[prefix.Length..]);
        return files.Order(StringComparer.Ordinal).ToList();
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
        (await VersionFile(dataset, version, ModelFiles.Manifest).ExistsAsync(ct)).Value;

    /// <summary>
    /// Removes a whole version, its manifest first so that no reader sees it with files missing. Before deleting the
    /// rest, <paramref name="keepAfterAll"/> is asked once more (a name may have been published meanwhile): if it says
    /// yes, the manifest is put back and the version stays. True when the version was removed.
    /// </summary>
    public async Task<bool> DeleteAsync(string dataset, string version, Func<Task<bool>> keepAfterAll,
        CancellationToken ct)
    {
        var manifest = VersionFile(dataset, version, ModelFiles.Manifest);
        BinaryData content;
        try { content = (await manifest.DownloadContentAsync(ct)).Value.Content; }
        catch (RequestFailedException e) when (e.Status == 404) { return false; }
        await manifest.DeleteIfExistsAsync(cancellationToken: ct);
        if (await keepAfterAll())
        {
            await manifest.UploadAsync(content, new BlobUploadOptions
            { HttpHeaders = new() { ContentType = JsonType } }, ct);
            return false;
        }
        foreach (var file in await ListFilesAsync(dataset, version, ct))
            await VersionFile(dataset, version, file).DeleteIfExistsAsync(cancellationToken: ct);
        return true;
    }

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
            var manifest = ModelFiles.Blob(dataset, folder, ModelFiles.Manifest);
            foreach (var blob in content.Blobs.OrderBy(b => b != manifest))
                await storage.Models.GetBlobClient(blob).DeleteIfExistsAsync(cancellationToken: ct);
        }
    }

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
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0) continue;
            var version = rest[..slash];
            var folder = folders.TryGetValue(version, out var found) ? found
                : folders[version] = new VersionFolder([], false);
            folder.Blobs.Add(blob.Name);
            if (blob.Name == ModelFiles.Blob(dataset, version, ModelFiles.Manifest))
                folders[version] = folder with { HasManifest = true };
        }
        return folders;
    }
}
