using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Datasets;

public enum SortResult { Accepted, Duplicate, Rejected, ControlAccepted }

public sealed record SortOutcome(string Upload, SortResult Result, Split? Split = null, string? Destination = null,
    string? Reason = null);

/// <summary>
/// Sorts one blob in uploads, however it was announced (Event Grid in Azure, polling locally): a good image is copied
/// into train or test under its content hash, a bad one gets a rejection record, a control blob asks for training.
/// The upload is only read. Running it twice for the same blob changes nothing.
/// </summary>
public sealed class UploadSorter(PipelineStorage storage, RejectionStore rejections, IUploadEvents events,
    IOptions<PipelineOptions> options, ILogger<UploadSorter> logger)
{
    private static readonly TimeSpan SettingsCacheTime = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (double Fraction, DateTimeOffset ReadAt)> testFractions = new();

    public Task<SortOutcome> SortAsync(BlobClient upload, CancellationToken ct) => SortAsync(upload.Name, upload, ct);

    /// <summary>
    /// The upload named <paramref name="name"/> as a listing gave it. A client is made only for a name that is valid:
    /// the SDK's URL would resolve a '.' or '..' segment to another blob, so such a name is refused by its name alone.
    /// </summary>
    public Task<SortOutcome> SortAsync(string name, CancellationToken ct) => SortAsync(name, null, ct);

    /// <summary>
    /// One span per upload: a dataset run's trace starts here, and the settle check or dispatch it leads to goes on
    /// with it.
    /// </summary>
    private async Task<SortOutcome> SortAsync(string name, BlobClient? client, CancellationToken ct)
    {
        using var span = Telemetry.Source.StartActivity("split");
        span?.SetTag("pipeline.upload", name);
        var path = UploadPath.Parse(name);
        if (path.Dataset is { } dataset) span?.SetTag(Telemetry.DatasetTag, dataset);
        var outcome = path.IsValid
            ? await SortValidAsync(client ?? storage.Uploads.GetBlobClient(name), path, ct)
            : await RejectAsync(path, path.Reason!, 0, ct);
        span?.SetTag("pipeline.sort_result", outcome.Result.ToString());
        Telemetry.UploadsSorted.Add(1, new KeyValuePair<string, object?>("pipeline.sort_result",
            outcome.Result.ToString()));
        return outcome;
    }

    private async Task<SortOutcome> SortValidAsync(BlobClient upload, UploadPath path, CancellationToken ct) =>
        path.Kind switch
        {
            UploadKind.TrainControl => await TrainControlAsync(upload, path, ct),
            UploadKind.DatasetSettings => await DatasetSettingsAsync(upload, path, ct),
            UploadKind.Labels => await LabelsAsync(upload, path, ct),
            UploadKind.Unlabelled => await UnlabelledAsync(upload, path, ct),
            _ => await ImageAsync(upload, path, [path.Label!], ct),
        };

    /// <summary>
    /// An image copied under each of <paramref name="labels"/> (the same content hash in the same split: one image
    /// with all of them for a multilabel dataset); none: under Negative, an image of no label.
    /// </summary>
    private async Task<SortOutcome> ImageAsync(BlobClient upload, UploadPath path, IReadOnlyList<string> labels,
        CancellationToken ct)
    {
        var limits = ImageLimits.From(options.Value);
        var readFrom = Stopwatch.GetTimestamp();
        var content = await ReadAsync(upload, limits.MaxBytes, ct);
        if (content is null) return Gone(path);
        if (content.Length > limits.MaxBytes)
            return await RejectAsync(path,
                $"The file is larger than the limit of {limits.MaxBytes / (1024 * 1024)} MB. Resize or recompress it.",
                content.Length, ct);

        ImageHeader header;
        try
        {
            header = ImageFile.Identify(content, limits);
            // proves the file is complete and every pixel decodes
            using var decoded = ImageFile.Decode(content, limits);
        }
        catch (ImageRejectedException e) { return await RejectAsync(path, e.Reason, content.Length, ct); }

        var hash = Convert.ToHexStringLower(SHA256.HashData(content));
        var split = path.UserSplit ?? (InTest(hash, await TestFractionAsync(path.Dataset!, ct)) ? Split.Test
            : Split.Train);
        if (labels.Count == 0) labels = [Classification.Negative];
        var extension = ImageFile.Extension(header.Format);
        var destinations = labels.Select(l => $"{path.Dataset}/{l}/{hash[..32]}{extension}").ToList();
        var written = new List<string>();
        for (var i = 0; i < destinations.Count; i++)
        {
            var target = destinations[i];
            try
            {
                await storage.SplitContainer(split).GetBlobClient(target).UploadAsync(new BinaryData(content),
                    new BlobUploadOptions
                    {
                        // The same image twice is one image.
                        Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                        HttpHeaders = new BlobHttpHeaders { ContentType = "image/" + header.Format.ToLowerInvariant() },
                        Metadata = new Dictionary<string, string>
                        {
                            ["source"] = Uri.EscapeDataString(path.Name), ["sha256"] = hash,
                        },
                    }, ct);
                written.Add(labels[i]);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412) { }
        }
        var destination = string.Join(", ", destinations);

        await rejections.ClearAsync(path.Dataset!, path.Name, readFrom, ct);
        var duplicate = written.Count == 0;
        // A duplicate is activity too: a retried split whose first try wrote the copy still schedules the check.
        await events.ImageAddedAsync(path.Dataset!, written, ct);
        logger.LogInformation("Split {Upload} into {Split} as {Destination} (duplicate: {Duplicate})", path.Name, split,
            destination, duplicate);
        return new(path.Name, duplicate ? SortResult.Duplicate : SortResult.Accepted, split, destination);
    }

    /// <summary>An image beside labels.csv: sorted under the labels the file gives it, refused where it names
    /// none.</summary>
    private async Task<SortOutcome> UnlabelledAsync(BlobClient upload, UploadPath path, CancellationToken ct)
    {
        var rows = await ReadLabelsAsync(path.Dataset!, ct);
        return rows?.LastOrDefault(r => r.File == path.FileName) is { } row
            ? await ImageAsync(upload, path, row.Labels, ct)
            : await RejectAsync(path, UploadPath.NotLabelled(path.Dataset!, path.FileName!), 0, ct);
    }

    /// <summary>
    /// labels.csv: every image beside it that it names is sorted (again) under its labels, so images uploaded before it
    /// are taken too; rows it cannot use are recorded against it, line by line, and the rest still count.
    /// </summary>
    private async Task<SortOutcome> LabelsAsync(BlobClient upload, UploadPath path, CancellationToken ct)
    {
        var readFrom = Stopwatch.GetTimestamp();
        var content = await ReadAsync(upload, MaxLabelsBytes, ct);
        if (content is null) return Gone(path);
        if (content.Length > MaxLabelsBytes)
            return await RejectAsync(path, $"labels.csv is larger than {MaxLabelsBytes / (1024 * 1024)} MB.",
                content.Length, ct);
        var problems = new List<(int Line, string Reason)>();
        var rows = LabelsCsv.Parse(System.Text.Encoding.UTF8.GetString(content), problems).ToList();
        foreach (var row in rows.Where(r => UploadPath.Parse($"{path.Dataset}/{r.File}").Kind != UploadKind.Unlabelled
            || r.File == StorageNames.LabelsFile))
            problems.Add((row.Line, $"'{Names.Shown(row.File)}' is not an image name beside labels.csv."));
        rows.RemoveAll(r => problems.Any(p => p.Line == r.Line));
        if (problems.Count > 0)
            await RejectAsync(path, "Some rows of labels.csv cannot be used (the others are): " + string.Join(" ",
                problems.OrderBy(p => p.Line).Take(10).Select(p => $"line {p.Line}: {p.Reason}")), content.Length, ct);
        else await rejections.ClearAsync(path.Dataset!, path.Name, readFrom, ct);
        var sorted = 0;
        await Parallel.ForEachAsync(rows, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
            async (row, token) =>
            {
                var image = UploadPath.Parse($"{path.Dataset}/{row.File}");
                var outcome = await ImageAsync(storage.Uploads.GetBlobClient(image.Name), image, row.Labels, token);
                if (outcome.Result is SortResult.Accepted or SortResult.Duplicate) Interlocked.Increment(ref sorted);
            });
        logger.LogInformation("Labels of {Upload}: {Sorted} of {Rows} images sorted", path.Name, sorted, rows.Count);
        return new(path.Name, SortResult.ControlAccepted, Reason: $"{sorted} of {rows.Count} images sorted");
    }

    private async Task<IReadOnlyList<LabelsCsvRow>?> ReadLabelsAsync(string dataset, CancellationToken ct)
    {
        var content = await ReadAsync(storage.Uploads.GetBlobClient(BlobPaths.Labels(dataset)), MaxLabelsBytes, ct);
        return content is null || content.Length > MaxLabelsBytes ? null
            : LabelsCsv.Parse(System.Text.Encoding.UTF8.GetString(content), []);
    }

    private const int MaxLabelsBytes = 16 * 1024 * 1024;

    private async Task<SortOutcome> TrainControlAsync(BlobClient upload, UploadPath path, CancellationToken ct)
    {
        var readFrom = Stopwatch.GetTimestamp();
        var content = await ReadAsync(upload, 64 * 1024, ct);
        if (content is null) return Gone(path);
        if (content.Length > 64 * 1024)
            return await RejectAsync(path, "train.json is larger than 64 KB.", content.Length, ct);
        var trainingOptions = TrainingOptions.Parse(System.Text.Encoding.UTF8.GetString(content), out var reason);
        if (trainingOptions is null) return await RejectAsync(path, reason!, content.Length, ct);
        await rejections.ClearAsync(path.Dataset!, path.Name, readFrom, ct);
        var outcome = await events.TrainingAskedAsync(path.Dataset!, trainingOptions, ct);
        logger.LogInformation("Training asked by {Upload}: {Result}", path.Name, outcome);
        return new(path.Name, SortResult.ControlAccepted, Reason: outcome);
    }

    private async Task<SortOutcome> DatasetSettingsAsync(BlobClient upload, UploadPath path, CancellationToken ct)
    {
        var readFrom = Stopwatch.GetTimestamp();
        var content = await ReadAsync(upload, 64 * 1024, ct);
        if (content is null) return Gone(path);
        if (DatasetSettings.Parse(content, out var reason) is null)
            return await RejectAsync(path, reason!, content.Length, ct);
        testFractions.TryRemove(path.Dataset!, out _);
        await rejections.ClearAsync(path.Dataset!, path.Name, readFrom, ct);
        return new(path.Name, SortResult.ControlAccepted);
    }

    private static SortOutcome Gone(UploadPath path) =>
        new(path.Name, SortResult.Rejected, Reason: "The upload disappeared before it was read.");

    private async Task<SortOutcome> RejectAsync(UploadPath path, string reason, long bytes, CancellationToken ct)
    {
        await rejections.RecordAsync(path.Dataset, path.Name, reason, bytes, ct);
        logger.LogWarning("Rejected {Upload}: {Reason}", path.Name, reason);
        return new(path.Name, SortResult.Rejected, Reason: reason);
    }

    /// <summary>Reads at most <paramref name="limit"/> + 1 bytes in one request, so an oversized upload is refused
    /// without loading it; null when gone.</summary>
    private static async Task<byte[]?> ReadAsync(BlobClient blob, long limit, CancellationToken ct)
    {
        try
        {
            var download = await blob.DownloadContentAsync(new BlobDownloadOptions
            {
                Range = new HttpRange(0, limit + 1),
            }, ct);
            return download.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404) { return null; }
        // A range of an empty blob is not satisfiable: the blob is empty.
        catch (RequestFailedException e) when (e.Status == 416) { return []; }
    }

    /// <summary>The split is a function of the content: copies of one image always land together, and redelivery
    /// changes nothing.</summary>
    public static bool InTest(string sha256Hex, double testFraction) =>
        ulong.Parse(sha256Hex[..16],
            System.Globalization.NumberStyles.HexNumber) / (double)ulong.MaxValue < testFraction;

    private async Task<double> TestFractionAsync(string dataset, CancellationToken ct)
    {
        if (testFractions.TryGetValue(dataset, out var cached)
            && DateTimeOffset.UtcNow - cached.ReadAt < SettingsCacheTime) return cached.Fraction;
        var fraction = options.Value.TestFraction;
        try
        {
            var settings = storage.Uploads.GetBlobClient(BlobPaths.DatasetSettings(dataset));
            var content = await settings.DownloadContentAsync(ct);
            if (DatasetSettings.Parse(content.Value.Content.ToArray(), out _) is { TestFraction: { } own })
                fraction = own;
        }
        catch (RequestFailedException e) when (e.Status == 404) { }
        testFractions[dataset] = (fraction, DateTimeOffset.UtcNow);
        return fraction;
    }
}
