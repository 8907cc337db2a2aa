using System.CommandLine;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Images;

namespace Pipeline.Cli;

/// <summary> <c>pipeline upload &lt;folder&gt; --dataset &lt;name&gt;</c>: every image to
/// <c>uploads/&lt;dataset&gt;/</c> as the folder lays it out, in parallel, skipping blobs that already hold the same
/// content (SHA-256 in the blob's metadata), so a run stopped with Ctrl+C picks up where it stopped. Files the split
/// would refuse are refused here first, with the same reasons.
/// </summary>
public static class UploadCommand
{
    public const string HashMetadata = "sha256";

    public static Command Create(CliOptions options)
    {
        var folder = new Argument<string>("folder")
        {
            Description = "a folder of label folders (or of train/ and test|val/ holding them)",
        };
        var dataset = CliOptions.DatasetOption();
        var parallel = CliOptions.AtLeast("--parallel", 1, 8,
            "uploads at once; what is already uploaded (same SHA-256) is skipped");
        var command = new Command("upload", "Upload a folder of label folders to uploads/<dataset>/") { folder, dataset,
            parallel };
        command.SetAction((parse, ct) => options.RunAsync(parse, connection =>
            RunAsync(parse.GetValue(folder)!, parse.GetValue(dataset)!, parse.GetValue(parallel), connection,
                options.Console, ct), ct));
        return command;
    }

    public static async Task<int> RunAsync(string folder, string dataset, int parallel, Connection connection,
        CliConsole console, CancellationToken ct)
    {
        if (!Directory.Exists(folder)) throw new CliException(ExitCodes.Usage, $"There is no folder '{folder}'.");
        if (Names.CheckDataset(dataset) is { } badName) throw new CliException(ExitCodes.Usage, badName);

        var plan = UploadPlan.Scan(folder, dataset);
        if (plan.Images.Count == 0 && plan.Controls.Count == 0)
            throw new CliException(ExitCodes.Usage,
                $"'{folder}' holds no images to upload: put them in one folder per label ({folder}/<label>/<file>)."
                + Refusals(plan.Refused));

        var uploads = connection.Storage.Uploads;
        var existing = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var blob in uploads.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, $"{dataset}/", ct))
            if (blob.Metadata.TryGetValue(HashMetadata, out var hash)) existing[blob.Name] = hash;

        // dataset.json (the test share, the kind) and labels.csv must be there before the images they apply to;
        // train.json asks for a run, so it goes last.
        foreach (var control in plan.Controls.Where(c => c.BlobName.EndsWith(StorageNames.DatasetSettingsFile,
            StringComparison.Ordinal) || c.BlobName.EndsWith(StorageNames.LabelsFile, StringComparison.Ordinal)))
            await UploadFileAsync(control, existing, connection, ct);

        var progress = new ProgressBar(console, plan.Images.Count);
        var refused = new ConcurrentBag<(string Path, string Reason)>(plan.Refused);
        var (uploaded, skipped, bytes) = (0, 0, 0L);
        try
        {
            await Parallel.ForEachAsync(plan.Images, new ParallelOptions
            {
                MaxDegreeOfParallelism = parallel,
                CancellationToken = ct
            }, async (file, token) =>
            {
                var outcome = await UploadFileAsync(file, existing, connection, token);
                if (outcome.Refusal is { } reason) refused.Add((file.LocalPath, reason));
                else if (outcome.Skipped) Interlocked.Increment(ref skipped);
                else { Interlocked.Increment(ref uploaded); Interlocked.Add(ref bytes, outcome.Bytes); }
                progress.Advance(uploaded, skipped, refused.Count - plan.Refused.Count, bytes);
            });
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            progress.Finish();
            console.Error.WriteLine($"Stopped: {uploaded} uploaded, {skipped} already " +
                $"there, {plan.Images.Count - uploaded - skipped} not yet. " +
                "Run the same command again to upload the rest; what is already uploaded is skipped.");
            return ExitCodes.Interrupted;
        }
        progress.Finish();

        foreach (var control in plan.Controls.Where(c => c.BlobName.EndsWith(StorageNames.TrainControlFile,
            StringComparison.Ordinal)))
            await UploadFileAsync(control, existing, connection, ct);

        var plural = uploaded == 1 ? "" : "s";
        console.Out.WriteLine($"Uploaded {uploaded} image{plural} ({bytes / 1048576.0:0.0} MB) to " +
            $"{StorageNames.Uploads}/{dataset}/; " +
            $"{skipped} already there; {refused.Count} refused.{Refusals(refused.ToList())}");
        if (uploaded > 0)
            console.Out.WriteLine($"The pipeline checks and splits them now and trains once no new image arrived for " +
                $"a while; to train now: pipeline train {dataset}");
        return ExitCodes.Ok;
    }

    private static string Refusals(IReadOnlyCollection<(string Path, string Reason)> refused)
    {
        if (refused.Count == 0) return "";
        const int shown = 50;
        var lines = refused.OrderBy(r => r.Path, StringComparer.Ordinal).Take(shown)
            .Select(r => $"\n  {r.Path}: {r.Reason}");
        return "\nNot uploaded:" + string.Concat(lines) + (refused.Count > shown
            ? $"\n  ... and {refused.Count - shown} more" : "");
    }

    private sealed record FileOutcome(bool Skipped, long Bytes, string? Refusal);

    private static async Task<FileOutcome> UploadFileAsync(PlannedFile file,
        IReadOnlyDictionary<string, string> existing, Connection connection, CancellationToken ct)
    {
        var limits = ImageLimits.Default;
        var length = new FileInfo(file.LocalPath).Length;
        if (length > limits.MaxBytes)
            return new(false, 0, $"The file is {length / 1048576.0:0.#} MB; the limit " +
                $"is {limits.MaxBytes / 1048576.0:0.#} MB. Resize or recompress it.");
        var content = await File.ReadAllBytesAsync(file.LocalPath, ct);
        string contentType = "application/json";
        if (!file.IsControl)
        {
            try { contentType = $"image/{ImageFile.Identify(content, limits).Format.ToLowerInvariant()}"; }
            catch (ImageRejectedException e) { return new(false, 0, e.Reason); }
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(content));
        if (existing.TryGetValue(file.BlobName, out var uploadedHash) && uploadedHash == hash)
            return new(true, 0, null);
        await connection.Storage.Uploads.GetBlobClient(file.BlobName).UploadAsync(new BinaryData(content),
            new BlobUploadOptions
            {
                Metadata = new Dictionary<string, string> { [HashMetadata] = hash },
                HttpHeaders = new BlobHttpHeaders { ContentType = contentType },
            }, ct);
        return new(false, content.Length, null);
    }
}

public sealed record PlannedFile(string LocalPath, string BlobName, bool IsControl);

/// <summary>What a folder holds, read as the split reads blob names: images to upload, control files, and files refused
/// by path alone.</summary>
public sealed record UploadPlan(IReadOnlyList<PlannedFile> Images, IReadOnlyList<PlannedFile> Controls,
    IReadOnlyList<(string Path, string Reason)> Refused)
{
    public static UploadPlan Scan(string folder, string dataset)
    {
        var images = new List<PlannedFile>();
        var controls = new List<PlannedFile>();
        var refused = new List<(string, string)>();
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal);
        // Images beside labels.csv are images only where it names them.
        var csv = Path.Combine(folder, StorageNames.LabelsFile);
        var named = File.Exists(csv)
            ? LabelsCsv.Parse(File.ReadAllText(csv), []).Select(r => r.File).ToHashSet(StringComparer.Ordinal)
            : [];
        foreach (var path in files)
        {
            var relative = Path.GetRelativePath(folder, path).Replace('\\', '/');
            // Hidden and system files (.DS_Store, Thumbs.db) are no one's images.
            var hidden = relative.Split('/').Any(s => s.StartsWith('.'));
            if (hidden || Path.GetFileName(path) is "Thumbs.db" or "desktop.ini")
                continue;
            var blobName = $"{dataset}/{relative}";
            var parsed = UploadPath.Parse(blobName);
            if (!parsed.IsValid) refused.Add((path, parsed.Reason!));
            else if (parsed.Kind == UploadKind.Unlabelled && !named.Contains(parsed.FileName!))
                refused.Add((path, UploadPath.NotLabelled(dataset, parsed.FileName!)));
            else if (parsed.Kind is UploadKind.Image or UploadKind.Unlabelled)
                images.Add(new PlannedFile(path, blobName, false));
            else controls.Add(new PlannedFile(path, blobName, true));
        }
        return new UploadPlan(images, controls, refused);
    }
}
