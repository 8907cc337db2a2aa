using System.Collections.Concurrent;
using Azure;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>
/// Each dataset's Custom Vision project id (models/&lt;dataset&gt;/project.json): made on first need, written only if
/// absent, so two callers at once agree on one id; found again by id through an in-memory index of the datasets.
/// </summary>
public sealed class ProjectStore(PipelineStorage storage, DatasetImageStore images)
{
    private readonly ConcurrentDictionary<Guid, string> byId = new();
    private long lastScanTicks;

    /// <summary>The dataset's project, made now if it has none yet.</summary>
    public async Task<DatasetProject> GetOrCreateAsync(string dataset, CancellationToken ct)
    {
        while (true)
        {
            if (await ReadAsync(dataset, ct) is { } found) return found;
            try
            {
                var made = new DatasetProject(Guid.NewGuid());
                await WriteAsync(dataset, made, overwrite: false, ct);
                return made;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412) { /* another caller made it: read it */ }
        }
    }

    public async Task<DatasetProject?> ReadAsync(string dataset, CancellationToken ct)
    {
        try
        {
            var content = await storage.Models.GetBlobClient(BlobPaths.Project(dataset)).DownloadContentAsync(ct);
            var project = content.Value.Content.ToObjectFromJson<DatasetProject>(Json.Options);
            if (project is null) return null;
            byId[project.ProjectId] = dataset;
            return project;
        }
        catch (RequestFailedException e) when (e.Status == 404) { return null; }
    }

    /// <summary>Writes the project (the importer keeps a Custom Vision project's own ids).</summary>
    public async Task WriteAsync(string dataset, DatasetProject project, bool overwrite, CancellationToken ct)
    {
        var options = new BlobUploadOptions { HttpHeaders = new() { ContentType = "application/json" } };
        if (!overwrite) options.Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All };
        await storage.Models.GetBlobClient(BlobPaths.Project(dataset))
            .UploadAsync(BinaryData.FromObjectAsJson(project, Json.Options), options, ct);
        byId[project.ProjectId] = dataset;
    }

    /// <summary>
    /// The dataset whose project id this is, or null. An unknown id reads every dataset's project.json again, at
    /// most once every few seconds, so unknown ids cannot make it list storage on every request.
    /// </summary>
    public async Task<string?> FindAsync(Guid projectId, CancellationToken ct)
    {
        if (byId.TryGetValue(projectId, out var dataset)) return dataset;
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref lastScanTicks);
        if (now - last < 5000 || Interlocked.CompareExchange(ref lastScanTicks, now, last) != last) return null;
        foreach (var name in await images.ListDatasetsAsync(ct)) await ReadAsync(name, ct);
        return byId.TryGetValue(projectId, out dataset) ? dataset : null;
    }
}
