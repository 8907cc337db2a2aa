using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Training;

/// <summary>
/// Keeps each dataset's <see cref="DatasetActivity"/> as images arrive, and at most one settle check pending per
/// dataset: the first image of a burst queues it, the others only move <see cref="DatasetActivity.LastImageAt"/>.
/// Images of one dataset that arrive together in this process are written in one change (the others wait for it),
/// so parallel splits do not fight over the blob's ETag.
/// </summary>
public sealed class SettleSchedule(PipelineStorage storage, DatasetActivityStore activities,
    IOptions<PipelineOptions> options)
{
    private readonly ConcurrentDictionary<string, Lane> lanes = new(StringComparer.Ordinal);

    private TimeSpan QuietPeriod => TimeSpan.FromSeconds(options.Value.QuietPeriodSeconds);

    /// <summary>An upload of the dataset was split: <paramref name="newLabels"/> are the labels it was newly written
    /// under (none for a duplicate, which still counts as activity).</summary>
    public async Task ImageAddedAsync(string dataset, IReadOnlyCollection<string> newLabels, CancellationToken ct)
    {
        var lane = lanes.GetOrAdd(dataset, _ => new Lane());
        Batch batch;
        lock (lane)
        {
            batch = lane.Open ??= new Batch();
            foreach (var label in newLabels) batch.Added[label] = batch.Added.GetValueOrDefault(label) + 1;
        }
        await lane.Gate.WaitAsync(ct);
        try
        {
            if (!batch.Done.Task.IsCompleted)
            {
                lock (lane) if (lane.Open == batch) lane.Open = null;
                try
                {
                    await WriteAsync(dataset, batch.Added, ct);
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

    private async Task WriteAsync(string dataset, IReadOnlyDictionary<string, int> added, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (current, etag) = await activities.ReadAsync(dataset, ct);
            var now = DateTimeOffset.UtcNow;
            var labels = new Dictionary<string, int>(current?.Labels ?? new Dictionary<string, int>(),
                StringComparer.Ordinal);
            foreach (var (label, count) in added) labels[label] = labels.GetValueOrDefault(label) + count;
            var pending = current?.CheckDueAt is { } due && now - due < DatasetActivity.LostCheckAfter;
            var schedule = !pending && options.Value.QuietPeriodSeconds > 0;
            var next = (current ?? new DatasetActivity()) with
            {
                LastImageAt = now,
                Labels = labels,
                CheckDueAt = schedule ? now + QuietPeriod : current?.CheckDueAt,
            };
            if (!await activities.TryWriteAsync(dataset, next, etag, ct))
            {
                if (attempt >= 50) throw new InvalidOperationException(
                    $"The activity of dataset '{dataset}' kept changing under 50 writes; the upload is tried again.");
                await Task.Delay(Random.Shared.Next(5, 50), ct);
                continue;
            }
            // Written first: a crash before the message leaves a check that the next image finds lost.
            if (schedule) await SendAsync(new SettleCheck(dataset, TraceParent: Telemetry.TraceParent,
                DueAt: next.CheckDueAt), QuietPeriod, ct);
            return;
        }
    }

    public async Task SendAsync(SettleCheck check, TimeSpan delay, CancellationToken ct) =>
        await storage.SettleQueue.SendMessageAsync(JsonSerializer.Serialize(check, Json.Options),
            visibilityTimeout: delay < TimeSpan.Zero ? TimeSpan.Zero : delay, cancellationToken: ct);

    private sealed class Lane
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public Batch? Open { get; set; }
    }

    private sealed class Batch
    {
        public Dictionary<string, int> Added { get; } = new(StringComparer.Ordinal);
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
