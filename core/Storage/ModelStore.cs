using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>
/// Model versions in the models container. A version's files are all written before latest.json names it, so a
/// reader that follows latest.json never sees a half-written version.
/// </summary>
public sealed class ModelStore(PipelineStorage storage)
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

    /// <summary>Uploads every file of <paramref name="folder"/> to <c>&lt;dataset&gt;/&lt;version&gt;/</c>; model.json
    /// last.</summary>
    public async Task UploadAsync(string dataset, string version, string folder, CancellationToken ct)
    {
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

    public async Task<IReadOnlyList<string>> ListVersionsAsync(string dataset, CancellationToken ct)
    {
        var versions = new List<string>();
        await foreach (var item in storage.Models.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/",
            $"{dataset}/", ct))
            if (item.IsPrefix) versions.Add(item.Prefix[(dataset.Length + 1)..].TrimEnd('/'));
        return versions;
    }
}
