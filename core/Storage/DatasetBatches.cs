using System.Collections.Concurrent;

namespace Pipeline.Core.Storage;

/// <summary>
/// Joins the work for one dataset that callers in this process ask for at about the same time: what arrives while the
/// dataset's last batch is being written waits and goes in the next one, and a single call to the writer serves every
/// caller of a batch (each gets its outcome). Parallel splits of one dataset thus send one request a batch, not one
/// each, and do not fight over a blob's ETag.
/// </summary>
/// <remarks>
/// A caller's token ends only its own wait. Cancelled before its batch is written, it takes its item out; cancelled
/// while the write runs, its item is written all the same for the others, and the write's own token is cancelled only
/// once every caller of the batch has left.
/// </remarks>
public sealed class DatasetBatches<TItem>(Func<string, IReadOnlyList<TItem>, CancellationToken, Task> write)
{
    private readonly ConcurrentDictionary<string, Lane> lanes = new(StringComparer.Ordinal);

    /// <summary>Returns once a write that holds <paramref name="item"/> has succeeded (or throws as it
    /// failed).</summary>
    public async Task AddAsync(string dataset, TItem item, CancellationToken ct)
    {
        var lane = lanes.GetOrAdd(dataset, _ => new Lane());
        Batch batch;
        lock (lane)
        {
            batch = lane.Open ??= new Batch();
            batch.Items.Add(item);
            batch.Callers++;
        }
        try
        {
            await lane.Gate.WaitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            Leave(lane, batch, item);
            throw;
        }
        bool writer;
        lock (lane)
        {
            writer = !batch.Taken;
            batch.Taken = true;
            if (lane.Open == batch) lane.Open = null;
        }
        if (writer) _ = WriteAsync(lane, dataset, batch); // releases the gate when the write has ended
        else lane.Gate.Release();
        try
        {
            await batch.Done.Task.WaitAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Leave(lane, batch, item);
            throw;
        }
    }

    private async Task WriteAsync(Lane lane, string dataset, Batch batch)
    {
        try
        {
            await write(dataset, batch.Items, batch.Stop.Token);
            batch.Done.SetResult();
        }
        catch (Exception e)
        {
            batch.Done.SetException(e);
            // Observed here too: when every caller has left, nobody else awaits it.
            _ = batch.Done.Task.Exception;
        }
        finally { lane.Gate.Release(); }
    }

    /// <summary>A caller's token was cancelled: it no longer waits for the batch.</summary>
    private static void Leave(Lane lane, Batch batch, TItem item)
    {
        bool last;
        lock (lane)
        {
            batch.Callers--;
            // Not written yet: its item goes out with it, so no later write carries it unseen.
            if (!batch.Taken) batch.Items.Remove(item);
            last = batch.Taken && batch.Callers == 0;
        }
        if (last) batch.Stop.Cancel();
    }

    private sealed class Lane
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public Batch? Open { get; set; }
    }

    private sealed class Batch
    {
        public List<TItem> Items { get; } = [];

        /// <summary>Callers still waiting for this batch (under the lane's lock).</summary>
        public int Callers { get; set; }

        /// <summary>A caller has begun its write (under the lane's lock); no item joins or leaves it after.</summary>
        public bool Taken { get; set; }

        /// <summary>The write's token. Not disposed: it has no timer, and a caller's late cancel must not meet a
        /// disposed source.</summary>
        public CancellationTokenSource Stop { get; } = new();

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
