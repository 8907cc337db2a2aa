using Azure;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;

namespace Pipeline.Core.Serving;

/// <summary>The dataset routes of the API: list, status, report, model versions and their files, and train.</summary>
public sealed class DatasetApi(DatasetStatusReader status, TrainingDispatch dispatch, ModelStore versions,
    StorageHealth health, RejectionStore rejections, PublishedNameStore names, ProjectStore projects)
{
    /// <summary>
    /// Every dataset; <c>problems</c>: what the host's listeners found wrong with storage (a listing that fails,
    /// unreadable uploads); <c>rejectedWithoutDataset</c>: uploads whose dataset name is invalid, with the reason.
    /// Storage that cannot be reached is a 503 that says since when, answered at once.
    /// </summary>
    public async Task<ApiResult<DatasetList>> ListAsync(CancellationToken ct)
    {
        // The listeners have found storage gone: answer now rather than after the SDK's retries.
        if (health.UnreachableSince is not null) return Unreachable(string.Join("; ", health.Describe()));
        try
        {
            // The uploads of no dataset are listed beside the datasets, not after them.
            var invalid = rejections.ListAsync(BlobPaths.NoDataset, ct);
            var datasets = status.ListAsync(ct);
            await Task.WhenAll(invalid, datasets);
            return new DatasetList(await datasets, health.Describe(), await invalid);
        }
        catch (Exception e) when (StorageHealth.IsUnreachable(e))
        {
            return Unreachable($"storage unreachable: {e.Message.Split('\n', 2)[0]}");
        }
    }

    private static ApiProblem Unreachable(string why) => ApiResult.Fail(503, "Storage unreachable",
        $"{why}. The pipeline retries by itself; start the storage emulator (or check the account) and ask again.");

    public Task<ApiResult<DatasetStatus>> GetAsync(string dataset, CancellationToken ct) => GetAsync(dataset, null, ct);

    /// <param name="reportUrl">
    /// Where this request's caller finds the report route; the answer links it when the promoted version has a report.
    /// </param>
    /// <param name="rejected"><c>all</c>: one page of the whole rejection records, downloaded, from
    /// <paramref name="continuation"/> (the last answer's <c>rejectedContinuation</c>; none for the first
    /// page).</param>
    public async Task<ApiResult<DatasetStatus>> GetAsync(string dataset, string? reportUrl, CancellationToken ct,
        string? rejected = null, string? continuation = null)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (rejected is not (null or "all"))
            return ApiResult.Fail(400, "Invalid rejected", $"'rejected' is 'all' (every rejection's whole record, a " +
                $"page at a time) or absent (the first {DatasetStatusReader.RejectedShown}), not '{rejected}'.");
        DatasetStatus? found;
        try { found = await status.ReadAsync(dataset, rejected is null ? null : continuation ?? "", ct); }
        catch (RequestFailedException e) when (e.Status == 400 && !string.IsNullOrEmpty(continuation))
        {
            return ApiResult.Fail(400, "Invalid continuation", "'continuation' is the rejectedContinuation of the " +
                "last answer, as it was; leave it out to start from the first page.");
        }
        if (found is null) return UnknownDataset(dataset);
        found = found with { ProjectId = (await projects.GetOrCreateAsync(dataset, ct)).ProjectId };
        if (reportUrl is null || found.Model is null) return found;
        if (!await ReportExistsAsync(dataset, found.Model.Version, ct)) return found;
        return found with { Report = reportUrl };
    }

    /// <summary>The report of <paramref name="version"/>, or of the promoted version: one self-contained HTML
    /// page.</summary>
    public async Task<ApiResult<ApiFile>> ReportAsync(string dataset, string? version, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (string.IsNullOrEmpty(version))
        {
            var (latest, _) = await versions.ReadLatestAsync(dataset, ct);
            if (latest is null)
                return ApiResult.Fail(404, "No model yet",
                    $"Dataset '{dataset}' has no promoted model, so no report. Train it first (POST " +
                        $"/api/datasets/{dataset}/train).");
            version = latest.Version;
        }
        else if (!ModelFiles.IsVersion(version)) return InvalidVersion();
        if (await OpenAsync(dataset, version, ModelFiles.Report, ct) is { } report) return report;
        return ApiResult.Fail(404, "No report", $"Dataset '{dataset}' has no report for version '{version}': " +
            "the version does not exist (or is still being written) or was trained before reports were written.");
    }

    /// <summary>Every complete model version of the dataset with its test metrics; the promoted one marked, and the
    /// names published versions go by.</summary>
    public async Task<ApiResult<ModelVersionList>> ModelsAsync(string dataset, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        var (latest, _) = await versions.ReadLatestAsync(dataset, ct);
        var published = PublishedNameEntry.From(await names.ReadAsync(dataset, ct));
        var list = new List<ModelVersionSummary>();
        foreach (var version in (await versions.ListVersionsAsync(dataset, ct)).Order(StringComparer.Ordinal))
        {
            // Still being written, or a crashed upload: not a version yet.
            if (await versions.ReadManifestAsync(dataset, version, ct) is not { } manifest) continue;
            var files = (await versions.ListFilesAsync(dataset, version, ct))
                .Where(ModelFiles.Downloadable.Contains).ToList();
            list.Add(new ModelVersionSummary(version, latest?.Version == version, manifest.CreatedAt, manifest.Labels,
                manifest.Device, manifest.Metrics, files,
                published.Where(n => n.Version == version).Select(n => n.Name).ToList()));
        }
        if (list.Count == 0 && await status.ReadAsync(dataset, ct) is null) return UnknownDataset(dataset);
        return new ModelVersionList(dataset, latest?.Version, list, published);
    }

    /// <summary>One file of a version (<see cref="ModelFiles.Downloadable"/>); <c>latest</c> names the promoted
    /// version.</summary>
    public async Task<ApiResult<ApiFile>> ModelFileAsync(string dataset, string version, string file,
        CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (!ModelFiles.Downloadable.Contains(file))
        {
            var files = string.Join(", ", ModelFiles.Downloadable);
            return ApiResult.Fail(404, "No such file", $"A model version has the files {files}, not '{file}'.");
        }
        if (version == "latest")
        {
            var (latest, _) = await versions.ReadLatestAsync(dataset, ct);
            if (latest is null)
                return ApiResult.Fail(404, "No model yet",
                    $"Dataset '{dataset}' has no promoted model yet. Train it first (POST " +
                    $"/api/datasets/{dataset}/train).");
            version = latest.Version;
        }
        else if (!ModelFiles.IsVersion(version)) return InvalidVersion();
        if (await OpenAsync(dataset, version, file, ct) is { } found) return found;
        if (file == ModelFiles.Mistakes && await versions.ExistsAsync(dataset, version, ct))
            return ApiResult.Fail(404, "No mistakes kept",
                $"Version '{version}' of dataset '{dataset}' has no {file}: multilabel models keep none (their " +
                "outcomes per label are in model.json), nor do versions trained before the trainer kept them. " +
                $"Train again (POST /api/datasets/{dataset}/train) for a version that has it.");
        return ApiResult.Fail(404, "No such version",
            $"Dataset '{dataset}' has no file '{file}' of version '{version}'. " +
            $"GET /api/datasets/{dataset}/models lists the versions.");
    }

    /// <summary>Body: training options as JSON (empty for the dataset's train.json or the default). 202 when queued,
    /// 200 when nothing new.</summary>
    public async Task<ApiResult<TrainResponse>> TrainAsync(string dataset, string body, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        TrainingOptions? options;
        if (string.IsNullOrWhiteSpace(body)) options = await dispatch.DatasetOptionsAsync(dataset, ct);
        else if ((options = TrainingOptions.Parse(body, out var reason)) is null) return ApiResult.Fail(400,
            "Invalid training options", reason!);

        var outcome = await dispatch.RequestAsync(dataset, options, TrainingDispatch.TriggerHttp, force: true, ct);
        var answer = new TrainResponse(dataset, outcome.Result.ToString(), outcome.Message, outcome.Job);
        return outcome.Result switch
        {
            DispatchResult.NoImages => ApiResult.Fail(404, "No images",
                $"{outcome.Message} Upload images to uploads/{dataset}/<label>/ first."),
            DispatchResult.NotTrainable => ApiResult.Fail(409, "Dataset cannot be trained", outcome.Message),
            DispatchResult.Queued or DispatchResult.QueuedNext => ApiResult.Ok(answer, 202),
            _ => answer,
        };
    }

    /// <summary>A file of a whole version; null while the version is being written (no model.json yet).</summary>
    private async Task<ApiFile?> OpenAsync(string dataset, string version, string file, CancellationToken ct)
    {
        if (!await versions.ExistsAsync(dataset, version, ct)) return null;
        try
        {
            var blob = versions.VersionFile(dataset, version, file);
            var download = await blob.DownloadStreamingAsync(cancellationToken: ct);
            return new ApiFile(download.Value.Content, ContentType(file), file);
        }
        catch (RequestFailedException e) when (e.Status == 404) { return null; }
    }

    private static string ContentType(string file) => Path.GetExtension(file) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };

    private async Task<bool> ReportExistsAsync(string dataset, string version, CancellationToken ct) =>
        (await versions.VersionFile(dataset, version, ModelFiles.Report).ExistsAsync(ct)).Value;

    private static ApiProblem UnknownDataset(string dataset) =>
        ApiResult.Fail(404, "Unknown dataset",
            $"There is no dataset '{dataset}'. Upload images to uploads/{dataset}/<label>/ first.");

    private static ApiProblem InvalidVersion() =>
        ApiResult.Fail(400, "Invalid version", "A version is a name such as 20261128-180512-3fa2c1.");
}

public sealed record TrainResponse(string Dataset, string Result, string Message, TrainingJob? Job);
