using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Local;

/// <summary>
/// The local host's stand-in for Azure's lifecycle rule: every hour, kept predictions older than
/// <see cref="PipelineOptions.KeepPredictionsDays"/> are deleted. A sweep that fails is tried again the next hour.
/// </summary>
public sealed class PredictionSweep(PredictionStore predictions, IOptions<PipelineOptions> options,
    ILogger<PredictionSweep> logger) : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var deleted = await predictions.DeleteOlderThanAsync(options.Value.KeepPredictionsDays, stoppingToken);
                if (deleted > 0)
                    logger.LogInformation("Deleted {Count} kept prediction blobs older than {Days} days", deleted,
                        options.Value.KeepPredictionsDays);
            }
            catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException)
            {
                logger.LogWarning(e, "Sweeping kept predictions failed; trying again in an hour");
            }
            try { await Task.Delay(Every, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
