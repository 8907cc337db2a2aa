using System.Collections.Concurrent;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Datasets;
using Pipeline.Core.Storage;

namespace Pipeline.Local;

/// <summary>
/// Catches uploads the polling blob trigger missed. Its scan compares each blob's Last-Modified (whole seconds) with
/// the time of its last scan (finer), so a blob written in the same second as a scan can be skipped for good; several
/// were, in a burst of uploads under Azurite. Every few seconds this lists uploads and splits what no trigger handled.
/// Splitting is idempotent, so a blob handled by both costs only time. In Azure, Event Grid delivers (and redelivers).
/// </summary>
public sealed class UploadSweep(PipelineStorage storage, UploadSorter sorter, IConfiguration configuration,
    ILogger<UploadSweep> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, Azure.ETag> handled = new();

    public void Handled(string name, Azure.ETag etag) => handled[name] = etag;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromSeconds(configuration.GetValue("Local:SweepSeconds", 5));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, stoppingToken);
                await foreach (var blob in storage.Uploads.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, stoppingToken))
                {
                    // Young blobs are the trigger's to take; only older ones it has not taken are swept.
                    if (blob.Properties.ETag is not { } etag || handled.TryGetValue(blob.Name, out var seen) && seen == etag) continue;
                    if (DateTimeOffset.UtcNow - blob.Properties.LastModified < every) continue;
                    logger.LogInformation("Sweeping {Upload}, which no trigger has handled", blob.Name);
                    await sorter.SortAsync(storage.Uploads.GetBlobClient(blob.Name), stoppingToken);
                    handled[blob.Name] = etag;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException)
            {
                logger.LogWarning(e, "The upload sweep failed; trying again");
            }
        }
    }
}
