using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>
/// Keeps a dataset's versions to <see cref="PipelineOptions.KeepVersions"/>: the oldest versions that are neither
/// promoted, nor pointed to by a published name, nor the newest are removed. The trainer applies it once a job has
/// written its version; a job that starts meanwhile only adds a newer one.
/// </summary>
public sealed class ModelRetention(ModelStore versions, PublishedNameStore names, IOptions<PipelineOptions> options,
    ILogger<ModelRetention> logger)
{
    /// <summary>Removes what is past the limit; returns the versions removed, oldest first.</summary>
    public async Task<IReadOnlyList<string>> ApplyAsync(string dataset, CancellationToken ct)
    {
        var keep = Math.Max(1, options.Value.KeepVersions);
        var all = await versions.ListVersionsAsync(dataset, ct);
        if (all.Count <= keep) return [];
        var kept = await ProtectedAsync(dataset, ct);
        kept.Add(all[^1]);
        var removed = new List<string>();
        // Version names start with their creation time, so the ordinal order is the age.
        foreach (var version in all.Where(v => !kept.Contains(v)).Take(all.Count - keep))
        {
            // Published while we looked? Then the manifest goes back and the version stays.
            if (!await versions.DeleteAsync(dataset, version,
                async () => (await ProtectedAsync(dataset, ct)).Contains(version), ct))
                continue;
            removed.Add(version);
            logger.LogInformation("Removed model version {Version} of {Dataset}: more than {Keep} versions are kept",
                version, dataset, keep);
        }
        return removed;
    }

    /// <summary>The promoted version and every version a published name points to.</summary>
    private async Task<HashSet<string>> ProtectedAsync(string dataset, CancellationToken ct)
    {
        var (latest, _) = await versions.ReadLatestAsync(dataset, ct);
        var published = await names.ReadAsync(dataset, ct);
        var kept = published.Names.Values.Select(n => n.Version).ToHashSet(StringComparer.Ordinal);
        if (latest is not null) kept.Add(latest.Version);
        return kept;
    }
}
