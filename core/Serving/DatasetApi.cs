using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Training;

namespace Pipeline.Core.Serving;

/// <summary>GET /api/datasets, GET /api/datasets/{dataset} and POST /api/datasets/{dataset}/train.</summary>
public sealed class DatasetApi(DatasetStatusReader status, TrainingDispatch dispatch)
{
    public async Task<ApiResult> ListAsync(CancellationToken ct) => ApiResult.Ok(new { datasets = await status.ListAsync(ct) });

    public async Task<ApiResult> GetAsync(string dataset, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        return await status.ReadAsync(dataset, ct) is { } found
            ? ApiResult.Ok(found)
            : ApiResult.Fail(404, "Unknown dataset", $"There is no dataset '{dataset}'. Upload images to uploads/{dataset}/<label>/ first.");
    }

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
            DispatchResult.Queued or DispatchResult.QueuedNext => ApiResult.Ok(new TrainResponse(dataset, outcome.Result.ToString(), outcome.Message, outcome.Job), 202),
            _ => ApiResult.Ok(new TrainResponse(dataset, outcome.Result.ToString(), outcome.Message, outcome.Job)),
        };
    }
}

public sealed record TrainResponse(string Dataset, string Result, string Message, TrainingJob? Job);
