using System.Text.Json;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Training;

public sealed record DispatchOutcome(DispatchResult Result, TrainingJob? Job, string Message);

/// <summary> Dispatches training: applies <see cref="DispatchRules"/> to training.json under its ETag and queues what
/// they decide. The only writer of a job's queue message and of what it was queued for; it watches each job it queued
/// and, when the job has ended, dispatches the request that waited for it.
/// </summary>
public sealed class TrainingDispatch(PipelineStorage storage, DatasetImageStore images, TrainingJobStore jobs,
    DatasetActivityStore activities, SettleSchedule schedule, IOptions<PipelineOptions> options,
    ILogger<TrainingDispatch> logger) : IUploadEvents
{
    public const string TriggerSettled = "settled";
    public const string TriggerHttp = "http";
    public const string TriggerControlBlob = "train.json";
    public const string TriggerNext = "next";

    private PipelineOptions Settings => options.Value;

    Task IUploadEvents.ImageAddedAsync(string dataset, IReadOnlyCollection<string> newLabels,
        CancellationToken ct) => schedule.ImageAddedAsync(dataset, newLabels, ct);

    async Task<string> IUploadEvents.TrainingAskedAsync(string dataset, TrainingOptions trainingOptions,
        CancellationToken ct) =>
        (await RequestAsync(dataset, trainingOptions, TriggerControlBlob, force: false, ct)).Message;

    /// <summary>
    /// A settle check came due: for a new image, train when no image has arrived for the quiet period; for a job
    /// this dispatcher queued, look again later while it runs, and dispatch what waited for it once it has ended.
    /// </summary>
    public async Task<DispatchOutcome> SettleAsync(string message, CancellationToken ct)
    {
        SettleCheck? check;
        try { check = JsonSerializer.Deserialize<SettleCheck>(message, Json.Options); }
        catch (JsonException) { check = null; }
        if (check is null || Names.CheckDataset(check.Dataset) is not null)
        {
            logger.LogWarning("Ignored a malformed settle message {Message}", message);
            return new(DispatchResult.UnknownDataset, null, "Malformed settle message.");
        }
        // The check goes on with the trace of the split (or dispatch) that sent it.
        using var span = Telemetry.StartFrom(check.JobId is null ? "settle check" : "job watch", check.TraceParent);
        span?.SetTag(Telemetry.DatasetTag, check.Dataset);
        var outcome = await SettleAsync(check, ct);
        span?.SetTag("pipeline.dispatch_result", outcome.Result.ToString());
        return outcome;
    }

    private async Task<DispatchOutcome> SettleAsync(SettleCheck check, CancellationToken ct)
    {
        if (check.JobId is { } jobId) return await WatchAsync(check.Dataset, jobId, check.TraceParent, ct);
        if (Settings.QuietPeriodSeconds <= 0) return new(DispatchResult.NotSettled, null, "Automatic training is off.");
        var quiet = TimeSpan.FromSeconds(Settings.QuietPeriodSeconds);
        for (var attempt = 0; ; attempt++)
        {
            if (attempt >= 50) throw new InvalidOperationException(
                $"The activity of dataset '{check.Dataset}' kept changing; the settle check comes back.");
            var (activity, etag) = await activities.ReadAsync(check.Dataset, ct);
            if (activity is null) return await SettleByListingAsync(check.Dataset, quiet, ct);
            // A check due at another time than the pending one is a stray (a redelivery, or one a lost check's
            // replacement superseded): the pending one does the work.
            if (activity.CheckDueAt is { } pending && check.DueAt != pending)
                return new(DispatchResult.NotSettled, null, "Another settle check of this dataset is pending.");
            var now = DateTimeOffset.UtcNow;
            if (!DispatchRules.Settled(activity.LastImageAt, now, quiet))
            {
                // The same check again, for the rest of the quiet period after the newest image.
                var next = activity.LastImageAt + quiet;
                if (!await activities.TryWriteAsync(check.Dataset, activity with { CheckDueAt = next }, etag, ct))
                    continue;
                await schedule.SendAsync(check with { DueAt = next }, next - now, ct);
                return new(DispatchResult.NotSettled, null,
                    $"The newest image arrived at {activity.LastImageAt:O}; waiting for the quiet period.");
            }
            var current = await images.ListAsync(check.Dataset, ct);
            var counted = activity with
            {
                CheckDueAt = null,
                Labels = current.GroupBy(i => i.Label).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
                CountedAt = now,
            };
            // An image that came meanwhile changed the blob: decide again on what it wrote.
            if (!await activities.TryWriteAsync(check.Dataset, counted, etag, ct)) continue;
            if (current.Count == 0) return new(DispatchResult.NoImages, null, "No images.");
            return await RequestAsync(check.Dataset, await DatasetOptionsAsync(check.Dataset, ct), TriggerSettled,
                force: false, current, ct);
        }
    }

    /// <summary>A dataset split before activity.json was kept: settled when its newest image is a quiet period
    /// old.</summary>
    private async Task<DispatchOutcome> SettleByListingAsync(string dataset, TimeSpan quiet, CancellationToken ct)
    {
        var current = await images.ListAsync(dataset, ct);
        if (current.Count == 0) return new(DispatchResult.NoImages, null, "No images.");
        var newest = current.Max(i => i.LastModified);
        if (!DispatchRules.Settled(newest, DateTimeOffset.UtcNow, quiet))
            return new(DispatchResult.NotSettled, null,
                $"The newest image arrived at {newest:O}; waiting for the quiet period.");
        return await RequestAsync(dataset, await DatasetOptionsAsync(dataset, ct), TriggerSettled, force: false,
            current, ct);
    }

    private async Task<DispatchOutcome> WatchAsync(string dataset, string jobId, string? traceParent,
        CancellationToken ct)
    {
        var job = await jobs.ReadAsync(dataset, ct);
        if (job?.JobId != jobId) return new(DispatchResult.UpToDate, job, $"Job {jobId} was superseded.");
        if (job.IsActive)
        {
            await WatchLaterAsync(dataset, jobId, traceParent, ct);
            return new(DispatchResult.AlreadyQueued, job, $"Job {jobId} is {job.State.ToString().ToLowerInvariant()}.");
        }
        return await DispatchNextAsync(dataset, ct) ?? new(DispatchResult.UpToDate, job,
            $"Job {jobId} ended; nothing waited for it.");
    }

    /// <param name="traceParent">The dispatch that queued the job: each look is a span beside the last, not in
    /// it.</param>
    private Task WatchLaterAsync(string dataset, string jobId, string? traceParent, CancellationToken ct) =>
        schedule.SendAsync(new SettleCheck(dataset, jobId, traceParent),
            TimeSpan.FromSeconds(Math.Max(1, Settings.JobWatchSeconds)), ct);

    /// <summary>Options from the dataset's train.json, else the configured default.</summary>
    public async Task<TrainingOptions> DatasetOptionsAsync(string dataset, CancellationToken ct)
    {
        try
        {
            var content = await storage.Uploads.GetBlobClient(BlobPaths.TrainControl(dataset)).DownloadContentAsync(ct);
            var parsed = TrainingOptions.Parse(content.Value.Content.ToString(), out _);
            if (parsed is not null) return parsed;
        }
        catch (RequestFailedException e) when (e.Status == 404) { }
        return DefaultOptions;
    }

    public TrainingOptions DefaultOptions => Settings.FastTraining ? TrainingOptions.Fast : new TrainingOptions();

    public async Task<DispatchOutcome> RequestAsync(string dataset, TrainingOptions options, string trigger, bool force,
        CancellationToken ct) =>
        await RequestAsync(dataset, options, trigger, force, await images.ListAsync(dataset, ct), ct);

    private async Task<DispatchOutcome> RequestAsync(string dataset, TrainingOptions trainingOptions, string trigger,
        bool force, IReadOnlyList<DatasetImage> current, CancellationToken ct)
    {
        // A "next" run is one of its own that the end of the last set off: a new trace, linked to the last one.
        using var span = trigger == TriggerNext ? Telemetry.StartLinked("dispatch")
            : Telemetry.Source.StartActivity("dispatch");
        span?.SetTag(Telemetry.DatasetTag, dataset);
        span?.SetTag("pipeline.trigger", trigger);
        if (current.Count == 0) return new(DispatchResult.NoImages, null,
            $"Dataset '{dataset}' has no accepted images yet.");
        if (Trainability.Check(dataset, current) is { } cannot)
        {
            logger.LogInformation("Training request for {Dataset} ({Trigger}) not queued: {Reason}", dataset, trigger,
                cannot);
            return new(DispatchResult.NotTrainable, null, cannot);
        }
        var kind = (await images.ReadSettingsAsync(dataset, ct)).Kind;
        var request = new DispatchRequest(dataset, trainingOptions, trigger, force, DispatchRules.Fingerprint(current,
            trainingOptions, kind),
            current.Count(i => i.Split == Split.Train), current.Count(i => i.Split == Split.Test), Telemetry.TraceId);
        DispatchDecision decision = default!;
        var written = await jobs.UpdateAsync(dataset, job => (decision = DispatchRules.Decide(job, request,
            DateTimeOffset.UtcNow)).Write, ct);

        if (decision.Result == DispatchResult.Queued && written is not null)
        {
            // training.json is written first: the conditional write decides which of two racing dispatchers queues.
            span?.SetTag(Telemetry.JobTag, written.JobId);
            await storage.TrainingQueue.SendMessageAsync(JsonSerializer.Serialize(new TrainingJobMessage(dataset,
                written.JobId, Telemetry.TraceParent), Json.Options), ct);
            await WatchLaterAsync(dataset, written.JobId, Telemetry.TraceParent, ct);
            logger.LogInformation("Queued training job {JobId} for {Dataset} ({Trigger}, {Images} images)",
                written.JobId, dataset, trigger, current.Count);
        }
        else logger.LogInformation("Training request for {Dataset} ({Trigger}): {Result}", dataset, trigger,
            decision.Result);
        span?.SetTag("pipeline.dispatch_result", decision.Result.ToString());
        return new(decision.Result, decision.Job, decision.Message);
    }

    /// <summary>After a job ends: dispatch the request that waited for it, if any.</summary>
    public async Task<DispatchOutcome?> DispatchNextAsync(string dataset, CancellationToken ct)
    {
        TrainingRequestRecord? next = null;
        await jobs.UpdateAsync(dataset, job =>
        {
            var taken = DispatchRules.TakeNext(job);
            next = taken?.Next;
            return taken?.Write;
        }, ct);
        return next is null ? null : await RequestAsync(dataset, next.Options, TriggerNext, force: false, ct);
    }
}
