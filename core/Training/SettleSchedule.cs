using System.Text.Json;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Training;

/// <summary>
/// Keeps each dataset's <see cref="DatasetActivity"/> as images arrive, and at most one settle check pending per
/// dataset: the first image of a burst queues it, the others only move <see cref="DatasetActivity.LastImageAt"/>.
/// Images of one dataset that arrive together in this process are written in one change
/// (<see cref="DatasetBatches{TItem}"/>), so parallel splits do not fight over the blob's ETag.
/// </summary>
public sealed class SettleSchedule(PipelineStorage storage, DatasetActivityStore activities,
    IOptions<PipelineOptions> options)
{
    private readonly DatasetBatches<IReadOnlyCollection<string>> batches = new((dataset, added, ct) =>
        WriteAsync(dataset, added, activities, options.Value, storage, ct));

    /// <summary>An upload of the dataset was split: <paramref name="newLabels"/> are the labels it was newly written
    /// under (none for a duplicate, which still counts as activity).</summary>
    public Task ImageAddedAsync(string dataset, IReadOnlyCollection<string> newLabels, CancellationToken ct) =>
        batches.AddAsync(dataset, newLabels, ct);

    private static async Task WriteAsync(string dataset, IReadOnlyList<IReadOnlyCollection<string>> added,
        DatasetActivityStore activities, PipelineOptions settings, PipelineStorage storage, CancellationToken ct)
    {
        var quiet = TimeSpan.FromSeconds(settings.QuietPeriodSeconds);
        for (var attempt = 0; ; attempt++)
        {
            var (current, etag) = await activities.ReadAsync(dataset, ct);
            var now = DateTimeOffset.UtcNow;
            var labels = new Dictionary<string, int>(current?.Labels ?? new Dictionary<string, int>(),
                StringComparer.Ordinal);
            foreach (var label in added.SelectMany(l => l)) labels[label] = labels.GetValueOrDefault(label) + 1;
            var pending = current?.CheckDueAt is { } due && now - due < DatasetActivity.LostCheckAfter;
            var schedule = !pending && settings.QuietPeriodSeconds > 0;
            var next = (current ?? new DatasetActivity()) with
            {
                LastImageAt = now,
                Labels = labels,
                CheckDueAt = schedule ? now + quiet : current?.CheckDueAt,
            };
            if (!await activities.TryWriteAsync(dataset, next, etag, ct))
            {
                if (attempt >= 50) throw new InvalidOperationException(
                    $"The activity of dataset '{dataset}' kept changing under 50 writes; the upload is tried again.");
                await Task.Delay(Random.Shared.Next(5, 50), ct);
                continue;
            }
            // Written first: a crash before the message leaves a check that the next image finds lost.
            if (schedule) await Send(storage, new SettleCheck(dataset, TraceParent: Telemetry.TraceParent,
                DueAt: next.CheckDueAt), quiet, ct);
            return;
        }
    }

    public Task SendAsync(SettleCheck check, TimeSpan delay, CancellationToken ct) => Send(storage, check, delay, ct);

    private static async Task Send(PipelineStorage storage, SettleCheck check, TimeSpan delay, CancellationToken ct) =>
        await storage.SettleQueue.SendMessageAsync(JsonSerializer.Serialize(check, Json.Options),
            visibilityTimeout: delay < TimeSpan.Zero ? TimeSpan.Zero : delay, cancellationToken: ct);
}
