using Azure;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;

namespace Pipeline.Local;

/// <summary>
/// The settle queue's trigger on the local host: takes due "has this dataset settled?" checks and asks the dispatcher.
/// A check that fails comes back after its visibility timeout; storage that cannot be reached is reported and retried
/// with backoff, never ending the host.
/// </summary>
public sealed class SettleListener(PipelineStorage storage, TrainingDispatch dispatch, StorageHealth health,
    ILogger<SettleListener> logger)
    : BackgroundService
{
    public const string Queue = "settle checks";
    private const int MaxDeliveries = 5;
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var wait = Poll;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var messages = (await storage.SettleQueue.ReceiveMessagesAsync(16, TimeSpan.FromSeconds(30),
                    stoppingToken)).Value;
                health.Succeeded(Queue);
                wait = Poll;
                foreach (var message in messages)
                {
                    try { await dispatch.SettleAsync(message.Body.ToString(), stoppingToken); }
                    catch (Exception e) when (e is RequestFailedException && message.DequeueCount < MaxDeliveries)
                    {
                        logger.LogWarning(e, "Settle check {MessageId} failed; it comes back in 30 s",
                            message.MessageId);
                        continue;
                    }
                    await storage.SettleQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stoppingToken);
                }
                if (messages.Length > 0) continue;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (RequestFailedException e) when (LostStorage.Is(e) && !stoppingToken.IsCancellationRequested)
            {
                await LostStorage.RecreateAsync(storage, health, Queue, e, logger, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                health.Failed(Queue, e);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxBackoff.Ticks));
                logger.LogWarning("Settle checks cannot be read ({Problem}); trying again in {Seconds} s",
                    string.Join("; ", health.Describe()), wait.TotalSeconds);
            }
            await Task.Delay(wait, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }
}
