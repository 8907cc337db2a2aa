using System.Collections.Concurrent;
using Azure;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Storage;

namespace Pipeline.Local;

/// <summary>
/// The local host's upload trigger, standing in for Event Grid (which Azurite lacks): every few seconds it lists
/// uploads
/// and splits each blob once per version (its ETag), by the name the listing gave. A listing that fails (storage
/// unreachable, or Azurite's 500 for a name holding a control character) is logged, retried with backoff and reported
/// in GET /api/datasets; it never ends the host, and splitting resumes by itself once storage answers again.
/// </summary>
public sealed class UploadSweep(PipelineStorage storage, UploadSorter sorter, RejectionStore rejections,
    StorageHealth health, IConfiguration configuration, ILogger<UploadSweep> logger) : BackgroundService
{
    public const string Listing = "uploads";
    private const int TriesPerUpload = 3;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, ETag> handled = new();
    private readonly ConcurrentDictionary<string, int> failures = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromSeconds(configuration.GetValue("Local:SweepSeconds", 2.0));
        var wait = every;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
                if (wait != every) logger.LogInformation("Uploads can be listed again");
                health.Succeeded(Listing);
                wait = every;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (RequestFailedException e) when (e.ErrorCode is "ContainerNotFound" or "QueueNotFound"
                && !stoppingToken.IsCancellationRequested)
            {
                // Storage came back empty (an emulator whose data was lost): the host makes its containers and queues
                // again.
                health.Failed(Listing, e);
                logger.LogWarning("{What} is missing in storage; creating the containers and queues again", Listing);
                try { await storage.EnsureCreatedAsync(stoppingToken); }
                catch (Exception again) when (!stoppingToken.IsCancellationRequested) { health.Failed(Listing, again); }
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

    /// <summary>One pass: every upload not yet handled in its current version is split, four at a time.</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        var pending = new List<(string Name, ETag ETag)>();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var blob in storage.Uploads.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, ct))
        {
            listed.Add(blob.Name);
            if (blob.Properties.ETag is { } etag && !(handled.TryGetValue(blob.Name, out var done)
                && done == etag)) pending.Add((blob.Name, etag));
        }
        foreach (var gone in handled.Keys.Where(n => !listed.Contains(n)).ToList()) handled.TryRemove(gone, out _);

        await Parallel.ForEachAsync(pending, new ParallelOptions
        {
            MaxDegreeOfParallelism = 4,
            CancellationToken = ct
        }, async (upload, token) =>
        {
            try
            {
                await sorter.SortAsync(upload.Name, token);
                handled[upload.Name] = upload.ETag;
                failures.TryRemove(upload.Name, out _);
            }
            catch (Exception e) when (e is not OperationCanceledException && !StorageHealth.IsUnreachable(e))
            {
                await GiveUpAfterTriesAsync(upload.Name, upload.ETag, e, token);
            }
        });
    }

    /// <summary>
    /// An upload that fails to split is tried again on the next passes, then recorded as rejected with the error.
    /// </summary>
    private async Task GiveUpAfterTriesAsync(string name, ETag etag, Exception e, CancellationToken ct)
    {
        var tries = failures.AddOrUpdate(name, 1, (_, n) => n + 1);
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
        handled[name] = etag;
        failures.TryRemove(name, out _);
    }
}
