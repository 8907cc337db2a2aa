using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Scoring;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Serving;

/// <summary>
/// The promoted model of each dataset, loaded once and swapped when latest.json names a new version. A request holds a
/// lease on the model it started with; a replaced model is disposed only when its last lease ends, so no request in
/// flight fails because of a promotion.
/// </summary>
public sealed class ModelCache(ModelStore versions, IOptions<PipelineOptions> options,
    ILogger<ModelCache> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, Entry> entries = new();

    /// <summary>A lease on the dataset's promoted model, or null when it has none.</summary>
    public async Task<ModelLease?> AcquireAsync(string dataset, CancellationToken ct)
    {
        var entry = entries.GetOrAdd(dataset, _ => new Entry());
        if (entry.Current is null
            || DateTimeOffset.UtcNow - entry.CheckedAt > TimeSpan.FromSeconds(options.Value.ModelRefreshSeconds))
            await RefreshAsync(dataset, entry, ct);
        return entry.Lease();
    }

    private async Task RefreshAsync(string dataset, Entry entry, CancellationToken ct)
    {
        await entry.Loading.WaitAsync(ct);
        try
        {
            var refresh = TimeSpan.FromSeconds(options.Value.ModelRefreshSeconds);
            if (entry.Current is not null && DateTimeOffset.UtcNow - entry.CheckedAt <= refresh) return;
            var (latest, _) = await versions.ReadLatestAsync(dataset, ct);
            entry.CheckedAt = DateTimeOffset.UtcNow;
            if (latest is null || latest.Version == entry.Current?.Version) return;
            var (model, manifest) = await versions.DownloadAsync(dataset, latest.Version, ct);
            entry.Swap(new LoadedModel(latest.Version, new Scorer(model, manifest, options.Value.ScoreThreads)));
            logger.LogInformation("Loaded model {Version} of {Dataset}", latest.Version, dataset);
        }
        finally { entry.Loading.Release(); }
    }

    public void Dispose()
    {
        foreach (var entry in entries.Values) entry.Swap(null);
    }

    private sealed class Entry
    {
        private readonly Lock gate = new();
        public SemaphoreSlim Loading { get; } = new(1, 1);
        public LoadedModel? Current { get; private set; }
        public DateTimeOffset CheckedAt { get; set; }

        public ModelLease? Lease()
        {
            lock (gate)
            {
                if (Current is null) return null;
                Current.Leases++;
                var model = Current;
                return new ModelLease(model.Version, model.Scorer, () => Release(model));
            }
        }

        public void Swap(LoadedModel? next)
        {
            LoadedModel? old;
            lock (gate)
            {
                old = Current;
                Current = next;
                if (old is null) return;
                old.Retired = true;
                if (old.Leases > 0) return;
            }
            old.Scorer.Dispose();
        }

        private void Release(LoadedModel model)
        {
            lock (gate)
            {
                model.Leases--;
                if (!model.Retired || model.Leases > 0) return;
            }
            model.Scorer.Dispose();
        }
    }

    private sealed class LoadedModel(string version, Scorer scorer)
    {
        public string Version { get; } = version;
        public Scorer Scorer { get; } = scorer;
        public int Leases { get; set; }
        public bool Retired { get; set; }
    }
}

public sealed class ModelLease(string version, Scorer scorer, Action release) : IDisposable
{
    private int released;
    public string Version { get; } = version;
    public Scorer Scorer { get; } = scorer;
    public void Dispose() { if (Interlocked.Exchange(ref released, 1) == 0) release(); }
}
