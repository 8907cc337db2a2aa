using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Core.Serving;
using Pipeline.Http;

namespace Pipeline.Functions;

/// <summary>The HTTP API, function-level keys in Azure (or the platform's sign-in instead, where App Service
/// authentication is on: <see cref="OpenToSignedInCallers"/>). Each trigger hands the request to
/// <see cref="PipelineApi"/>.</summary>
public sealed class HttpFunctions(DatasetApi datasets, ScoreService scores, PublishApi publish, CustomVisionApi cv,
    PredictionApi kept, DatasetImagesApi images)
{
    /// <summary>The studio's page: anonymous, since it holds no secret; its API calls carry the function
    /// key, or the platform's sign-in cookie.</summary>
    [Function("Studio")]
    public IResult Studio([HttpTrigger(AuthorizationLevel.Anonymous, "get",
        Route = StudioFiles.FunctionRoute)] HttpRequest request, string? path) =>
        StudioFiles.Serve(path, StudioFiles.FunctionBase);

    [Function("CreateDataset")]
    public async Task<IResult> CreateDatasetAsync([HttpTrigger(AuthorizationLevel.Function, "post",
        Route = PipelineApi.Datasets)] HttpRequest request, CancellationToken ct) =>
        await DatasetImageRequests.CreateAsync(images, request, ct);

    [Function("UploadImage")]
    public async Task<IResult> UploadImageAsync([HttpTrigger(AuthorizationLevel.Function, "put",
        Route = PipelineApi.UploadImage)] HttpRequest request, string dataset, string label, string file,
        CancellationToken ct) =>
        await DatasetImageRequests.UploadAsync(images, request, dataset, label, file,
            request.Query["split"].FirstOrDefault(), ct);

    [Function("KnownImages")]
    public async Task<IResult> KnownImagesAsync([HttpTrigger(AuthorizationLevel.Function, "post",
        Route = PipelineApi.KnownImages)] HttpRequest request, string dataset, CancellationToken ct) =>
        await DatasetImageRequests.KnownAsync(images, request, dataset, ct);

    [Function("ListImages")]
    public async Task<IResult> ListImagesAsync([HttpTrigger(AuthorizationLevel.Function, "get",
        Route = PipelineApi.Images)] HttpRequest request, string dataset, CancellationToken ct) =>
        await DatasetImageRequests.ListAsync(images, dataset, request.Query["label"].FirstOrDefault(),
            request.Query["split"].FirstOrDefault(), request.Query["take"].FirstOrDefault(),
            request.Query["skip"].FirstOrDefault(), ct);

    [Function("Thumbnail")]
    public async Task<IResult> ThumbnailAsync([HttpTrigger(AuthorizationLevel.Function, "get",
        Route = PipelineApi.Thumbnail)] HttpRequest request, string dataset, string split, string label, string file,
        CancellationToken ct) =>
        await DatasetImageRequests.ThumbnailAsync(images, dataset, split, label, file, ct);

    [Function("MoveImage")]
    public async Task<IResult> MoveImageAsync([HttpTrigger(AuthorizationLevel.Function, "post",
        Route = PipelineApi.MoveImage)] HttpRequest request, string dataset, string split, string label, string file,
        CancellationToken ct) =>
        await DatasetImageRequests.MoveAsync(images, request, dataset, split, label, file, ct);

    [Function("DeleteImage")]
    public async Task<IResult> DeleteImageAsync([HttpTrigger(AuthorizationLevel.Function, "delete",
        Route = PipelineApi.Image)] HttpRequest request, string dataset, string split, string label, string file,
        CancellationToken ct) =>
        await DatasetImageRequests.DeleteAsync(images, dataset, split, label, file, ct);

    [Function("TrainingOptions")]
    public IResult TrainingOptions([HttpTrigger(AuthorizationLevel.Function, "get",
        Route = PipelineApi.TrainingOptionList)] HttpRequest request) => DatasetImageRequests.TrainingOptions();

    [Function("Predictions")]
    public async Task<IResult> PredictionsAsync([HttpTrigger(AuthorizationLevel.Function, "get",
        Route = PipelineApi.Predictions)] HttpRequest request,
        string dataset, CancellationToken ct) =>
        await PipelineApi.PredictionsAsync(kept, dataset, request.Query["order"].FirstOrDefault(),
            request.Query["take"].FirstOrDefault(), request.Query["skip"].FirstOrDefault(), ct);

    [Function("LabelPrediction")]
    public async Task<IResult> LabelAsync([HttpTrigger(AuthorizationLevel.Function, "post",
        Route = PipelineApi.LabelPrediction)] HttpRequest request,
        string dataset, string id, CancellationToken ct) =>
        await PipelineApi.LabelAsync(kept, request, dataset, id, ct);

    [Function("DeletePrediction")]
    public async Task<IResult> DeletePredictionAsync([HttpTrigger(AuthorizationLevel.Function, "delete",
        Route = PipelineApi.Prediction)] HttpRequest request,
        string dataset, string id, CancellationToken ct) =>
        await PipelineApi.DeletePredictionAsync(kept, dataset, id, ct);

    // Custom Vision's routes carry their own key (Prediction-Key, checked by CustomVisionApi), not a function key.
    [Function("CustomVisionImage")]
    public async Task<IResult> ClassifyImageAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post",
        Route = CustomVisionRequests.Image)] HttpRequest request,
        string apiVersion, string projectId, string publishedName, CancellationToken ct) =>
        await CustomVisionRequests.ClassifyImageAsync(cv, request, apiVersion, projectId, publishedName, true, ct);

    [Function("CustomVisionImageNoStore")]
    public async Task<IResult> ClassifyImageNoStoreAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post",
        Route = CustomVisionRequests.ImageNoStore)] HttpRequest request,
        string apiVersion, string projectId, string publishedName, CancellationToken ct) =>
        await CustomVisionRequests.ClassifyImageAsync(cv, request, apiVersion, projectId, publishedName, false, ct);

    [Function("CustomVisionUrl")]
    public async Task<IResult> ClassifyUrlAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post",
        Route = CustomVisionRequests.Url)] HttpRequest request,
        string apiVersion, string projectId, string publishedName, CancellationToken ct) =>
        await CustomVisionRequests.ClassifyUrlAsync(cv, request, apiVersion, projectId, publishedName, true, ct);

    [Function("CustomVisionUrlNoStore")]
    public async Task<IResult> ClassifyUrlNoStoreAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post",
        Route = CustomVisionRequests.UrlNoStore)] HttpRequest request,
        string apiVersion, string projectId, string publishedName, CancellationToken ct) =>
        await CustomVisionRequests.ClassifyUrlAsync(cv, request, apiVersion, projectId, publishedName, false, ct);

    [Function("Score")]
    public async Task<IResult> ScoreAsync([HttpTrigger(AuthorizationLevel.Function, "post",
        Route = PipelineApi.Score)] HttpRequest request,
        string dataset, CancellationToken ct) =>
        await PipelineApi.ScoreAsync(scores, request, dataset, ScoreParameters.From(request.Query), ct);

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

    [Function("PublishModel")]
    public async Task<IResult> PublishAsync([HttpTrigger(AuthorizationLevel.Function, "post",
        Route = PipelineApi.Publish)] HttpRequest request,
        string dataset, string version, CancellationToken ct) =>
        await PipelineApi.PublishAsync(publish, request, dataset, version, ct);

    [Function("UnpublishModel")]
    public async Task<IResult> UnpublishAsync([HttpTrigger(AuthorizationLevel.Function, "delete",
        Route = PipelineApi.Unpublish)] HttpRequest request,
        string dataset, string version, string name, CancellationToken ct) =>
        await PipelineApi.UnpublishAsync(publish, dataset, version, name, ct);

    [Function("Train")]
    public async Task<IResult> TrainAsync([HttpTrigger(AuthorizationLevel.Function, "post",
        Route = PipelineApi.Train)] HttpRequest request,
        string dataset, CancellationToken ct) => await PipelineApi.TrainAsync(datasets, request, dataset, ct);
}
