using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Core.Serving;
using Pipeline.Http;

namespace Pipeline.Functions;

/// <summary>The HTTP API, function-level keys in Azure. Each trigger hands the request to
/// <see cref="PipelineApi"/>.</summary>
public sealed class HttpFunctions(DatasetApi datasets, ScoreService scores)
{
    [Function("Score")]
    public async Task<IResult> ScoreAsync([HttpTrigger(AuthorizationLevel.Function, "post",
        Route = PipelineApi.Score)] HttpRequest request,
        string dataset, CancellationToken ct) =>
        await PipelineApi.ScoreAsync(scores, request, dataset, request.Query["top"].FirstOrDefault(), ct);

    [Function("Datasets")]
    public async Task<IResult> ListAsync([HttpTrigger(AuthorizationLevel.Function, "get",
        Route = PipelineApi.Datasets)] HttpRequest request,
        CancellationToken ct) => await PipelineApi.ListAsync(datasets, ct);

    [Function("Dataset")]
    public async Task<IResult> GetAsync([HttpTrigger(AuthorizationLevel.Function, "get",
        Route = PipelineApi.Dataset)] HttpRequest request,
        string dataset, CancellationToken ct) => await PipelineApi.GetAsync(datasets, request, dataset, ct);

    [Function("Report")]
    public async Task<IResult> ReportAsync([HttpTrigger(AuthorizationLevel.Function, "get",
        Route = PipelineApi.Report)] HttpRequest request,
        string dataset, CancellationToken ct) =>
        await PipelineApi.ReportAsync(datasets, dataset, request.Query["version"].FirstOrDefault(), ct);

    [Function("Models")]
    public async Task<IResult> ModelsAsync([HttpTrigger(AuthorizationLevel.Function, "get",
        Route = PipelineApi.Models)] HttpRequest request,
        string dataset, CancellationToken ct) => await PipelineApi.ModelsAsync(datasets, dataset, ct);

    [Function("ModelFile")]
    public async Task<IResult> ModelFileAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = PipelineApi.ModelFile)] HttpRequest request,
        string dataset, string version, string file, CancellationToken ct) =>
        await PipelineApi.ModelFileAsync(datasets, dataset, version, file, ct);

    [Function("Train")]
    public async Task<IResult> TrainAsync([HttpTrigger(AuthorizationLevel.Function, "post",
        Route = PipelineApi.Train)] HttpRequest request,
        string dataset, CancellationToken ct) => await PipelineApi.TrainAsync(datasets, request, dataset, ct);
}
