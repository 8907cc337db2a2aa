using System.Text.Json;
using Azure;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;

namespace Pipeline.Core.Serving;

/// <summary>GET /api/datasets, GET /api/datasets/{dataset}, GET /api/datasets/{dataset}/report and POST /api/datasets/{dataset}/train.</summary>
public sealed class DatasetApi(DatasetStatusReader status, TrainingDispatch dispatch, ModelVersions versions,
    PipelineStorage storage,
    StorageHealth health, Rejections rejections)
{
    /// <summary>The trainer's report beside each version's model (trainer-container/Report/ReportWriter.cs writes it).</summary>
    public const string ReportFile = "report.html";

    /// <summary>
    /// Every dataset; <c>problems</c>: what the host's listeners found wrong with storage (a listing that fails,
    /// unreadable uploads); <c>rejectedWithoutDataset</c>: uploads whose dataset name is invalid, with the reason.
    /// Storage that cannot be reached is a 503 that says since when, answered at once.
    /// </summary>
    public async Task<ApiResult> ListAsync(CancellationToken ct)
    {
        // The listeners have found storage gone: answer now rather than after the SDK's retries.
        if (health.UnreachableSince is not null) return Unreachable(string.Join("; ", health.Describe()));
        try
        {
            return ApiResult.Ok(new
            {
                datasets = await status.ListAsync(ct), problems = health.Describe(),
                rejectedWithoutDataset = await rejections.ListAsync(Rejections.NoDataset, ct),
            });
        }
        catch (Exception e) when (StorageHealth.IsUnreachable(e))
        {
            return Unreachable($"storage unreachable: {e.Message.Split('\n', 2)[0]}");
        }
    }

    private static ApiResult Unreachable(string why) => ApiResult.Fail(503, "Storage unreachable",
        $"{why}. The pipeline retries by itself; start the storage emulator (or check the account) and ask again.");

    public Task<ApiResult> GetAsync(string dataset, CancellationToken ct) => GetAsync(dataset, null, ct);

    /// <param name="reportUrl">Where this request's caller finds the report route; the answer links it when the promoted version has a report.</param>
    public async Task<ApiResult> GetAsync(string dataset, string? reportUrl, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (await status.ReadAsync(dataset, ct) is not { } found)
            return ApiResult.Fail(404, "Unknown dataset", $"There is no dataset '{dataset}'. Upload images to uploads/{dataset}/<label>/ first.");
        if (reportUrl is null || found.Model is null || !await ReportExistsAsync(dataset, found.Model.Version, ct)) return ApiResult.Ok(found);
        var json = JsonSerializer.SerializeToNode(found, Json.Options)!.AsObject();
        json["report"] = reportUrl;
        return ApiResult.Ok(json);
    }

    /// <summary>The report of <paramref name="version"/>, or of the promoted version: one self-contained HTML page.</summary>
    public async Task<ApiResult> ReportAsync(string dataset, string? version, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (string.IsNullOrEmpty(version))
        {
            var (latest, _) = await versions.ReadLatestAsync(dataset, ct);
            if (latest is null)
                return ApiResult.Fail(404, "No model yet", $"Dataset '{dataset}' has no promoted model, so no report. Train it first (POST /api/datasets/{dataset}/train).");
            version = latest.Version;
        }
        else if (version.Contains('/') || version.Contains("..")) return ApiResult.Fail(400, "Invalid version", "A version is a name such as 20261128-180512-3fa2c1.");
        else if (!await versions.ExistsAsync(dataset, version, ct)) return NoReport(dataset, version);
        try
        {
            var content = await storage.Models.GetBlobClient($"{dataset}/{version}/{ReportFile}").DownloadContentAsync(ct);
            return ApiResult.Ok(new ApiFile(content.Value.Content, "text/html; charset=utf-8"));
        }
        catch (RequestFailedException e) when (e.Status == 404) { return NoReport(dataset, version); }
    }

    private static ApiResult NoReport(string dataset, string version) => ApiResult.Fail(404, "No report",
        $"Dataset '{dataset}' has no report for version '{version}': the version does not exist (or is still being " +
            $"written) or was trained before reports were written.");

    private async Task<bool> ReportExistsAsync(string dataset, string version, CancellationToken ct) =>
        (await storage.Models.GetBlobClient($"{dataset}/{version}/{ReportFile}").ExistsAsync(ct)).Value;

    /// <summary>Body: training options as JSON (empty for the dataset's train.json or the default). 202 when queued, 200 when nothing new.</summary>
    public async Task<ApiResult> TrainAsync(string dataset, string body, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        TrainingOptions? options;
        if (string.IsNullOrWhiteSpace(body)) options = await dispatch.DatasetOptionsAsync(dataset, ct);
        else if ((options = TrainingDispatch.ParseOptions(body, out var reason)) is null) return ApiResult.Fail(400, "Invalid training options", reason!);

        var outcome = await dispatch.RequestAsync(dataset, options, TrainingDispatch.TriggerHttp, force: true, ct);
        return outcome.Result switch
        {
            DispatchResult.NoImages => ApiResult.Fail(404, "No images", $"{outcome.Message} Upload images to uploads/{dataset}/<label>/ first."),
            DispatchResult.NotTrainable => ApiResult.Fail(409, "Dataset cannot be trained", outcome.Message),
            DispatchResult.Queued or DispatchResult.QueuedNext => ApiResult.Ok(new TrainResponse(dataset, outcome.Result.ToString(), outcome.Message, outcome.Job), 202),
            _ => ApiResult.Ok(new TrainResponse(dataset, outcome.Result.ToString(), outcome.Message, outcome.Job)),
        };
    }
}

/// <summary>An answer that is a file, not JSON (the report).</summary>
public sealed record ApiFile(BinaryData Content, string ContentType);

public sealed record TrainResponse(string Dataset, string Result, string Message, TrainingJob? Job);
