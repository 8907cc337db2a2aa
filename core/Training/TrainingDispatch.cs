using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Training;

public enum DispatchResult { Queued, AlreadyQueued, QueuedNext, UpToDate, NoImages, NotSettled, UnknownDataset,
    NotTrainable }

public sealed record DispatchOutcome(DispatchResult Result, TrainingJob? Job, string Message);

/// <summary>
/// Decides when a dataset trains. One job per set of images and options: a request for what is already queued, running
/// or trained changes nothing; a request while a job runs is remembered and dispatched when that job ends.
/// </summary>
public sealed class TrainingDispatch(PipelineStorage storage, DatasetImages images, TrainingJobs jobs, IOptions<PipelineOptions> options, ILogger<TrainingDispatch> logger)
{
    public const string TriggerSettled = "settled";
    public const string TriggerHttp = "http";
    public const string TriggerControlBlob = "train.json";
    public const string TriggerNext = "next";

    private PipelineOptions Settings => options.Value;

    /// <summary>Queues a delayed settle check for a dataset that just got an image; nothing when automatic training is off.</summary>
    public async Task ScheduleSettleCheckAsync(string dataset, CancellationToken ct)
    {
        if (Settings.QuietPeriodSeconds <= 0) return;
        await storage.SettleQueue.SendMessageAsync(JsonSerializer.Serialize(new SettleCheck(dataset), Json.Options),
            visibilityTimeout: TimeSpan.FromSeconds(Settings.QuietPeriodSeconds), cancellationToken: ct);
    }

    /// <summary>A settle check came due: train when no image has arrived for the quiet period.</summary>
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
        if (Settings.QuietPeriodSeconds <= 0) return new(DispatchResult.NotSettled, null, "Automatic training is off.");

        var current = await images.ListAsync(check.Dataset, ct);
        if (current.Count == 0) return new(DispatchResult.NoImages, null, "No images.");
        var newest = current.Max(i => i.LastModified);
        // A later image has its own check coming; a small tolerance covers clock skew between the storage and this host.
        if (DateTimeOffset.UtcNow - newest < TimeSpan.FromSeconds(Settings.QuietPeriodSeconds) - TimeSpan.FromSeconds(2))
            return new(DispatchResult.NotSettled, null, $"The newest image arrived at {newest:O}; waiting for the quiet period.");
        return await RequestAsync(check.Dataset, await DatasetOptionsAsync(check.Dataset, ct), TriggerSettled, force: false, current, ct);
    }

    /// <summary>Options from the dataset's train.json, else the configured default.</summary>
    public async Task<TrainingOptions> DatasetOptionsAsync(string dataset, CancellationToken ct)
    {
        try
        {
            var content = await storage.Uploads.GetBlobClient($"{dataset}/{StorageNames.TrainControlFile}").DownloadContentAsync(ct);
            var parsed = ParseOptions(content.Value.Content.ToString(), out _);
            if (parsed is not null) return parsed;
        }
        catch (RequestFailedException e) when (e.Status == 404) { }
        return DefaultOptions;
    }

    public TrainingOptions DefaultOptions => Settings.FastTraining ? TrainingOptions.Fast : new TrainingOptions();

    /// <summary>Parses training options as a user wrote them; null with a reason when they are not valid.</summary>
    public static TrainingOptions? ParseOptions(string json, out string? reason)
    {
        reason = null;
        if (string.IsNullOrWhiteSpace(json)) return new TrainingOptions();
        try
        {
            var parsed = JsonSerializer.Deserialize<TrainingOptions>(json, Json.Options);
            if (parsed is null) { reason = "The training options are null; send {} for the defaults."; return null; }
            if (parsed.Resize is not ("crop" or "squash")) { reason = $"resize must be 'crop' or 'squash', not '{parsed.Resize}'."; return null; }
            if (parsed.HeadEpochs < 1 || parsed.BatchSize < 1 || parsed.FineTuneEpochs < 0 || parsed.ValidationFraction is <= 0 or >= 1)
            { reason = "headEpochs and batchSize must be at least 1, fineTuneEpochs at least 0, validationFraction between 0 and 1."; return null; }
            return parsed;
        }
        catch (JsonException e) { reason = $"The training options are not valid JSON: {e.Message}"; return null; }
    }

    public async Task<DispatchOutcome> RequestAsync(string dataset, TrainingOptions options, string trigger, bool force, CancellationToken ct) =>
        await RequestAsync(dataset, options, trigger, force, await images.ListAsync(dataset, ct), ct);

    private async Task<DispatchOutcome> RequestAsync(string dataset, TrainingOptions trainingOptions, string trigger, bool force,
        IReadOnlyList<DatasetImage> current, CancellationToken ct)
    {
        if (current.Count == 0) return new(DispatchResult.NoImages, null, $"Dataset '{dataset}' has no accepted images yet.");
        if (Trainability.Check(dataset, current) is { } cannot)
        {
            logger.LogInformation("Training request for {Dataset} ({Trigger}) not queued: {Reason}", dataset, trigger,
                cannot);
            return new(DispatchResult.NotTrainable, null, cannot);
        }
        var fingerprint = Fingerprint(current, trainingOptions);
        var now = DateTimeOffset.UtcNow;
        DispatchOutcome outcome = default!;
        var written = await jobs.UpdateAsync(dataset, job =>
        {
            if (job is { IsActive: true })
            {
                if (job.Fingerprint == fingerprint || job.Next?.Options == trainingOptions)
                {
                    outcome = new(DispatchResult.AlreadyQueued, job, job.Fingerprint == fingerprint
                        ? $"Job {job.JobId} is already {job.State.ToString().ToLowerInvariant()} for these images."
                        : $"Job {job.JobId} is {job.State.ToString().ToLowerInvariant()}; a run with these options is already due after it.");
                    return null;
                }
                outcome = new(DispatchResult.QueuedNext, job, $"Job {job.JobId} is {job.State.ToString().ToLowerInvariant()}; the new images train when it ends.");
                return job with { Next = new TrainingRequestRecord(trainingOptions, trigger, now) };
            }
            if (job is not null && job.Fingerprint == fingerprint && !(force && job.State == TrainingState.Failed))
            {
                outcome = new(DispatchResult.UpToDate, job, $"Job {job.JobId} already trained on these images with these options ({job.State.ToString().ToLowerInvariant()}).");
                return null;
            }
            var created = new TrainingJob
            {
                JobId = $"{now:yyyyMMdd-HHmmss}-{fingerprint[..6]}",
                Dataset = dataset,
                State = TrainingState.Queued,
                Options = trainingOptions,
                Trigger = trigger,
                Fingerprint = fingerprint,
                TrainImages = current.Count(i => i.Split == Split.Train),
                TestImages = current.Count(i => i.Split == Split.Test),
                QueuedAt = now,
            };
            outcome = new(DispatchResult.Queued, created, $"Queued job {created.JobId}.");
            return created;
        }, ct);

        if (outcome.Result == DispatchResult.Queued && written is not null)
        {
            // training.json is written first: the conditional write decides which of two racing dispatchers queues.
            await storage.TrainingQueue.SendMessageAsync(JsonSerializer.Serialize(new TrainingJobMessage(dataset, written.JobId), Json.Options), ct);
            logger.LogInformation("Queued training job {JobId} for {Dataset} ({Trigger}, {Images} images)", written.JobId, dataset, trigger, current.Count);
        }
        else logger.LogInformation("Training request for {Dataset} ({Trigger}): {Result}", dataset, trigger, outcome.Result);
        return outcome;
    }

    /// <summary>After a job ends: dispatch the request that waited for it, if any.</summary>
    public async Task<DispatchOutcome?> DispatchNextAsync(string dataset, CancellationToken ct)
    {
        TrainingRequestRecord? next = null;
        await jobs.UpdateAsync(dataset, job =>
        {
            next = job is { IsActive: false, Next: not null } ? job.Next : null;
            return next is null ? null : job! with { Next = null };
        }, ct);
        return next is null ? null : await RequestAsync(dataset, next.Options, TriggerNext, force: false, ct);
    }

    public static string Fingerprint(IEnumerable<DatasetImage> images, TrainingOptions options)
    {
        var text = new StringBuilder(JsonSerializer.Serialize(options, Json.Options));
        foreach (var image in images.OrderBy(i => i.Split).ThenBy(i => i.BlobName, StringComparer.Ordinal))
            text.Append('\n').Append(image.Split).Append(':').Append(image.BlobName);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private sealed record SettleCheck(string Dataset);
}
