using System.Collections.Concurrent;
using Azure;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Storage;

namespace Pipeline.Local;

/// <summary>
/// The local host's upload trigger, standing in for Event Grid (which Azurite lacks): every few seconds it reads one
/// page of the uploads listing, going on from where the last sweep stopped (at once while pages hold new uploads, so
/// an idle sweep costs one listing call however many uploads there are), and
/// splits each blob once per version (its ETag), by the name the listing gave, <c>Local:SplitParallelism</c> at a time.
/// Once a pass over the whole listing has ended, every blob older than its start (and a margin for clock skew) has
/// been split or recorded as rejected: that time becomes the watermark below which blobs are skipped and forgotten,
/// so the sweep remembers only the uploads of its last pass. A listing that fails (storage unreachable, or Azurite's
/// 500 for a name holding a control character) is logged, retried with backoff and reported in GET /api/datasets; it
/// never ends the host, and splitting resumes by itself once storage answers again.
/// </summary>
public sealed class UploadSweep(PipelineStorage storage, UploadSorter sorter, RejectionStore rejections,
    StorageHealth health, IConfiguration configuration, ILogger<UploadSweep> logger) : BackgroundService
{
    public const string Listing = "uploads";
    private const int TriesPerUpload = 3;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Blobs of one listing page (the most the service gives).</summary>
    private const int PageSize = 5000;
    /// <summary>How far a blob's time (the storage's clock) may lag the host's clock.</summary>
    private static readonly TimeSpan ClockMargin = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, (ETag ETag, DateTimeOffset Modified)> handled = new();
    private readonly ConcurrentDictionary<string, (int Tries, DateTimeOffset Modified)> failures = new();
    private readonly int parallelism = Math.Max(1, configuration.GetValue("Local:SplitParallelism", 32));
    private string? continuation;
    private DateTimeOffset passStart = DateTimeOffset.UtcNow;
    private DateTimeOffset watermark = DateTimeOffset.MinValue;

    /// <summary>Uploads the sweep remembers (those of its last pass over the listing).</summary>
    public int Remembered => handled.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromSeconds(configuration.GetValue("Local:SweepSeconds", 2.0));
        var wait = every;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Pages that held new uploads go on at once; a page of nothing new waits for the next sweep.
                while ((await SweepPageAsync(stoppingToken)).Split > 0) health.Succeeded(Listing);
                if (wait != every) logger.LogInformation("Uploads can be listed again");
                health.Succeeded(Listing);
                wait = every;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (RequestFailedException e) when (LostStorage.Is(e) && !stoppingToken.IsCancellationRequested)
            {
                await LostStorage.RecreateAsync(storage, health, Listing, e, logger, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                health.Failed(Listing, e);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxBackoff.Ticks));
                logger.LogWarning("Uploads cannot be listed ({Problem}); trying again in {Seconds} s",
                    string.Join("; ", health.Describe()), wait.TotalSeconds);
            }
            await Task.Delay(wait, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    /// <summary>Sweeps until a whole pass over the listing has been read (tests and benchmarks).</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        while (!(await SweepPageAsync(ct)).PassEnded) { }
    }

    /// <summary>
    /// One page of the listing: every upload on it not yet handled in its current version is split. Says whether the
    /// page ended a pass over the listing, and how many uploads it split.
    /// </summary>
    public async Task<(bool PassEnded, int Split)> SweepPageAsync(CancellationToken ct)
    {
        if (continuation is null) passStart = DateTimeOffset.UtcNow;
        var pending = new List<(string Name, ETag ETag, DateTimeOffset Modified)>();
        string? next = null;
        await foreach (var page in storage.Uploads.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, ct)
            .AsPages(continuation, PageSize))
        {
            foreach (var blob in page.Values)
            {
                var modified = blob.Properties.LastModified ?? DateTimeOffset.MaxValue;
                if (modified < watermark || blob.Properties.ETag is not { } etag) continue;
                if (!(handled.TryGetValue(blob.Name, out var done) && done.ETag == etag))
                    pending.Add((blob.Name, etag, modified));
            }
            next = string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken;
            break;
        }

        await Parallel.ForEachAsync(pending, new ParallelOptions
        {
            MaxDegreeOfParallelism = parallelism,
            CancellationToken = ct
        }, async (upload, token) =>
        {
            try
            {
                await sorter.SortAsync(upload.Name, token);
                handled[upload.Name] = (upload.ETag, upload.Modified);
                failures.TryRemove(upload.Name, out _);
            }
            catch (Exception e) when (e is not OperationCanceledException && !StorageHealth.IsUnreachable(e))
            {
                await GiveUpAfterTriesAsync(upload.Name, upload.ETag, upload.Modified, e, token);
            }
        });
        continuation = next;
        if (next is null) EndPass();
        return (next is null, pending.Count);
    }

    /// <summary>
    /// Every blob older than the pass's start was listed in it and split (or is being tried again): the watermark
    /// moves up to it, short of the oldest upload still failing, and what is below it is forgotten.
    /// </summary>
    private void EndPass()
    {
        var mark = passStart - ClockMargin;
        foreach (var failing in failures.Values) if (failing.Modified < mark) mark = failing.Modified;
        if (mark <= watermark) return;
        watermark = mark;
        foreach (var (name, done) in handled) if (done.Modified < watermark) handled.TryRemove(name, out _);
    }

    /// <summary>
    /// An upload that fails to split is tried again on the next passes, then recorded as rejected with the error.
    /// </summary>
    private async Task GiveUpAfterTriesAsync(string name, ETag etag, DateTimeOffset modified, Exception e,
        CancellationToken ct)
    {
        var tries = failures.AddOrUpdate(name, (1, modified), (_, n) => (n.Tries + 1, modified)).Tries;
        logger.LogWarning(e, "Could not split {Upload} (try {Try} of {Tries})", Names.Shown(name), tries,
            TriesPerUpload);
        if (tries < TriesPerUpload) return;
        var path = UploadPath.Parse(name);
        try
        {
            await rejections.RecordAsync(path.Dataset, name,
                $"The upload could not be read: {e.Message.Split('\n', 2)[0]}", 0, ct);
        }
        catch (Exception recordFailed) when (recordFailed is RequestFailedException or ArgumentException
            or UriFormatException)
        {
            logger.LogError(recordFailed, "Upload {Upload} can be neither split nor recorded as rejected",
                Names.Shown(name));
            health.Unreadable(path.Dataset, name);
        }
        handled[name] = (etag, modified);
        failures.TryRemove(name, out _);
    }
}
