using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Pipeline.Trainer.Job;

/// <summary>
/// Keeps a queue message hidden while its job runs, as long as this process lives. If the process dies, renewals stop,
/// the message reappears after the visibility timeout and another replica (or this one, restarted) retries it.
/// </summary>
public sealed class MessageKeeper : IAsyncDisposable
{
    private readonly QueueClient queue;
    private readonly string messageId;
    private readonly TimeSpan visibility;
    private readonly CancellationTokenSource stop = new();
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly Task renewing;
    private string popReceipt;
    private bool deleted;

    /// <summary>Told the receipt each time it changes (the local host's child writes it to its lease file).</summary>
    public Action<string>? ReceiptChanged { get; set; }
    public string PopReceipt => popReceipt;

    public MessageKeeper(QueueClient queue, QueueMessage message, TimeSpan visibility)
    {
        this.queue = queue;
        messageId = message.MessageId;
        popReceipt = message.PopReceipt;
        this.visibility = visibility;
        renewing = RenewAsync(stop.Token);
    }

    private async Task RenewAsync(CancellationToken ct)
    {
        var every = TimeSpan.FromTicks(Math.Max(visibility.Ticks / 3, TimeSpan.FromSeconds(1).Ticks));
        while (!ct.IsCancellationRequested)
        {
            try { await Task.Delay(every, ct); }
            catch (OperationCanceledException) { return; }
            await gate.WaitAsync(CancellationToken.None);
            try
            {
                if (deleted) return;
                var receipt = await queue.UpdateMessageAsync(
                    messageId, popReceipt, visibilityTimeout: visibility, cancellationToken: ct);
                popReceipt = receipt.Value.PopReceipt;
                ReceiptChanged?.Invoke(popReceipt);
            }
            // lost the message: another replica has it; finishing here is still idempotent
            catch (RequestFailedException) { }
            catch (OperationCanceledException) { return; }
            finally { gate.Release(); }
        }
    }

    /// <summary>The job is done (or hopeless): the message goes away for good.</summary>
    public async Task DeleteAsync(CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            if (deleted) return;
            try { await queue.DeleteMessageAsync(messageId, popReceipt, ct); }
            catch (RequestFailedException e) when (e.Status == 404) { }
            deleted = true;
        }
        finally { gate.Release(); }
    }

    /// <summary>
    /// The job is handed back (this trainer is stopping): the message is visible again now, for the next trainer.
    /// </summary>
    public async Task ReleaseAsync(CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            if (deleted) return;
            try
            {
                await queue.UpdateMessageAsync(messageId, popReceipt, visibilityTimeout: TimeSpan.Zero,
                cancellationToken: ct);
            }
            catch (RequestFailedException) { } // lost it already: it comes back after its visibility timeout
            deleted = true; // no longer ours: stop renewing
        }
        finally { gate.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        stop.Cancel();
        await renewing;
        stop.Dispose();
    }
}
