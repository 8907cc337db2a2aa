using System.Collections.Concurrent;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Scoring;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Serving;

/// <summary>Which model a scoring request asks for: a version, a published name, or (neither) the promoted
/// one.</summary>
public readonly record struct ModelChoice(string? Name = null, string? Version = null);

/// <summary>
/// Loaded models, at most <see cref="PipelineOptions.MaxLoadedModels"/> of them (the least recently used is let go
/// first), and where the promoted version and each published name point, looked up again every
/// <see cref="PipelineOptions.ModelRefreshSeconds"/>. A request holds a lease on the model it started with; a model
/// let go (evicted, or no longer pointed to) is disposed only when its last lease ends, so no request in flight fails
/// because of a promotion, a rollback or an eviction.
/// </summary>
public sealed class ModelCache(ModelStore versions, PublishedNameStore names, IOptions<PipelineOptions> options,
    ILogger<ModelCache> logger) : IDisposable
{
    private readonly ConcurrentDictionary<(string Dataset, string? Name), Pointer> pointers = new();
    private readonly Lock gate = new();
    private readonly Dictionary<(string Dataset, string Version), LoadedModel> loaded = new();
    /// <summary>Loaded models, least recently used first.</summary>
    private readonly LinkedList<LoadedModel> recency = new();
    /// <summary>One load at a time per stripe, so concurrent requests for a model not loaded yet load it
    /// once.</summary>
    private readonly SemaphoreSlim[] loading = Enumerable.Range(0, 16).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    /// <summary>How many models are loaded and held (besides retired ones still finishing their requests).</summary>
    public int LoadedCount { get { lock (gate) return loaded.Count; } }

    /// <summary>A lease on the dataset's promoted model, or null when it has none.</summary>
    public Task<ModelLease?> AcquireAsync(string dataset, CancellationToken ct) => AcquireAsync(dataset, default, ct);

    /// <summary>A lease on the chosen model, or null when there is no such version, name or promoted model.</summary>
    public async Task<ModelLease?> AcquireAsync(string dataset, ModelChoice choice, CancellationToken ct)
    {
        var version = choice.Version ?? await ResolveAsync(dataset, choice.Name, ct);
        if (version is null) return null;
        return TryLease(dataset, version) ?? await LoadAsync(dataset, version, ct);
    }

    /// <summary>The version the promoted model (<paramref name="name"/> null) or a name points to, read again once
    /// the refresh period has passed. Only names found are remembered, so unknown names cost no memory.</summary>
    private async Task<string?> ResolveAsync(string dataset, string? name, CancellationToken ct)
    {
        var refresh = TimeSpan.FromSeconds(options.Value.ModelRefreshSeconds);
        var key = (dataset, name);
        if (!pointers.TryGetValue(key, out var pointer))
        {
            var found = await ReadPointerAsync(dataset, name, ct);
            if (found is not null) pointers[key] = new Pointer(found);
            return found;
        }
        if (DateTimeOffset.UtcNow - pointer.State.CheckedAt <= refresh) return pointer.State.Version;
        await pointer.Gate.WaitAsync(ct);
        try
        {
            var known = pointer.State;
            if (DateTimeOffset.UtcNow - known.CheckedAt <= refresh) return known.Version;
            string? now;
            try { now = await ReadPointerAsync(dataset, name, ct); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Storage hiccups: keep answering with the version we know, and look again after the next period.
                logger.LogWarning(e, "Could not look up {Name} of {Dataset}; still scoring with {Version}",
                    name ?? "the promoted version", dataset, known.Version);
                pointer.State = known with { CheckedAt = DateTimeOffset.UtcNow };
                return known.Version;
            }
            if (now is null)
            {
                pointers.TryRemove(key, out _);
                return null;
            }
            if (now != known.Version)
                logger.LogInformation("{Name} of {Dataset} now points to {Version}", name ?? "The promoted version",
                    dataset, now);
            pointer.State = new PointerState(now, DateTimeOffset.UtcNow);
            return now;
        }
        finally { pointer.Gate.Release(); }
    }

    private async Task<string?> ReadPointerAsync(string dataset, string? name, CancellationToken ct)
    {
        if (name is null) return (await versions.ReadLatestAsync(dataset, ct)).Latest?.Version;
        return (await names.ReadAsync(dataset, ct)).Names.GetValueOrDefault(name)?.Version;
    }

    /// <summary>Loads a version not loaded yet (once, however many requests ask) and leases it; null when the version
    /// does not exist (or is still being written).</summary>
    private async Task<ModelLease?> LoadAsync(string dataset, string version, CancellationToken ct)
    {
        var stripe = loading[(uint)HashCode.Combine(dataset, version) % loading.Length];
        await stripe.WaitAsync(ct);
        try
        {
            if (TryLease(dataset, version) is { } lease) return lease;
            if (!await versions.ExistsAsync(dataset, version, ct)) return null;
            byte[] model;
            ModelManifest manifest;
            try { (model, manifest) = await versions.DownloadAsync(dataset, version, ct); }
            catch (RequestFailedException e) when (e.Status == 404) { return null; }
            var scorer = new Scorer(model, manifest, options.Value.ScoreThreads);
            logger.LogInformation("Loaded model {Version} of {Dataset}", version, dataset);
            return Add(dataset, version, scorer);
        }
        finally { stripe.Release(); }
    }

    private ModelLease? TryLease(string dataset, string version)
    {
        lock (gate)
        {
            if (!loaded.TryGetValue((dataset, version), out var model)) return null;
            recency.Remove(model.Node);
            recency.AddLast(model.Node);
            return Lease(model);
        }
    }

    /// <summary>Adds a loaded model, leased, and lets the least recently used ones go past the limit.</summary>
    private ModelLease Add(string dataset, string version, Scorer scorer)
    {
        var dispose = new List<LoadedModel>();
        ModelLease lease;
        lock (gate)
        {
            var model = new LoadedModel(dataset, version, scorer);
            loaded[(dataset, version)] = model;
            recency.AddLast(model.Node);
            lease = Lease(model);
            var max = Math.Max(1, options.Value.MaxLoadedModels);
            while (loaded.Count > max && recency.First!.Value != model)
            {
                var oldest = recency.First.Value;
                recency.RemoveFirst();
                loaded.Remove((oldest.Dataset, oldest.Version));
                oldest.Retired = true;
                if (oldest.Leases == 0) dispose.Add(oldest);
                logger.LogInformation("Unloaded model {Version} of {Dataset}: {Max} models are loaded at most",
                    oldest.Version, oldest.Dataset, max);
            }
        }
        foreach (var model in dispose) model.Scorer.Dispose();
        return lease;
    }

    private ModelLease Lease(LoadedModel model)
    {
        model.Leases++;
        return new ModelLease(model.Version, model.Scorer, () => Release(model));
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

    public void Dispose()
    {
        var dispose = new List<LoadedModel>();
        lock (gate)
        {
            foreach (var model in loaded.Values)
            {
                model.Retired = true;
                if (model.Leases == 0) dispose.Add(model);
            }
            loaded.Clear();
            recency.Clear();
        }
        foreach (var model in dispose) model.Scorer.Dispose();
    }

    /// <summary>Where the promoted version or a name pointed when last looked up; replaced whole, never
    /// torn.</summary>
    private sealed record PointerState(string Version, DateTimeOffset CheckedAt);

    private sealed class Pointer(string version)
    {
        private volatile PointerState state = new(version, DateTimeOffset.UtcNow);
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public PointerState State { get => state; set => state = value; }
    }

    private sealed class LoadedModel
    {
        public LoadedModel(string dataset, string version, Scorer scorer)
        {
            (Dataset, Version, Scorer) = (dataset, version, scorer);
            Node = new LinkedListNode<LoadedModel>(this);
        }

        public string Dataset { get; }
        public string Version { get; }
        public Scorer Scorer { get; }
        public LinkedListNode<LoadedModel> Node { get; }
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
