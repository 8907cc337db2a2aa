using System.Collections.Concurrent;

namespace Pipeline.Core.Storage;

/// <summary>
/// Joins the work for one dataset that callers in this process ask for at about the same time: what arrives while the
/// dataset's last batch is being written waits and goes in the next one, and a single call to the writer serves every
/// caller of a batch (each gets its outcome). Parallel splits of one dataset thus send one request a batch, not one
/// each, and do not fight over a blob's ETag.
/// </summary>
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
        }
        await lane.Gate.WaitAsync(ct);
        try
        {
            if (!batch.Done.Task.IsCompleted)
            {
                lock (lane) if (lane.Open == batch) lane.Open = null;
                try
                {
                    await write(dataset, batch.Items, ct);
                    batch.Done.SetResult();
                }
                catch (Exception e)
                {
                    batch.Done.SetException(e);
                }
            }
        }
        finally { lane.Gate.Release(); }
        await batch.Done.Task;
    }

    private sealed class Lane
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public Batch? Open { get; set; }
    }

    private sealed class Batch
    {
        public List<TItem> Items { get; } = [];
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
