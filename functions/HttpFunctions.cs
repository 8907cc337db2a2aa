using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Core.Serving;
using Pipeline.Http;

namespace Pipeline.Functions;

/// <summary>The HTTP API, function-level keys in Azure. Each trigger hands the request to <see cref="PipelineApi"/>.</summary>
public sealed class HttpFunctions(DatasetApi datasets, ScoreService scores)
{
    [Function("Score")]
    public Task<IResult> ScoreAsync([HttpTrigger(AuthorizationLevel.Function, "post", Route = PipelineApi.Score)] HttpRequest request, string dataset,
        CancellationToken ct) => PipelineApi.ScoreAsync(scores, request, dataset, ct);

    [Function("Datasets")]
    public Task<IResult> ListAsync([HttpTrigger(AuthorizationLevel.Function, "get", Route = PipelineApi.Datasets)] HttpRequest request,
        CancellationToken ct) => PipelineApi.ListAsync(datasets, ct);

    [Function("Dataset")]
    public Task<IResult> GetAsync([HttpTrigger(AuthorizationLevel.Function, "get", Route = PipelineApi.Dataset)] HttpRequest request, string dataset,
        CancellationToken ct) => PipelineApi.GetAsync(datasets, request, dataset, ct);

    [Function("Report")]
    public Task<IResult> ReportAsync([HttpTrigger(AuthorizationLevel.Function, "get", Route = PipelineApi.Report)] HttpRequest request, string dataset,
        CancellationToken ct) => PipelineApi.ReportAsync(datasets, request, dataset, ct);

    [Function("Train")]
    public Task<IResult> TrainAsync([HttpTrigger(AuthorizationLevel.Function, "post", Route = PipelineApi.Train)] HttpRequest request, string dataset,
        CancellationToken ct) => PipelineApi.TrainAsync(datasets, request, dataset, ct);
}
