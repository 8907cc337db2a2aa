using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Serving;

namespace Pipeline.Http;

/// <summary>
/// The HTTP API in one place: its routes, how a request becomes a core call and how the answer becomes a typed result.
/// The function app's HTTP triggers and the local host's minimal API both call these, so both answer alike.
/// </summary>
public static class PipelineApi
{
    public const string Datasets = "datasets";
    public const string Dataset = "datasets/{dataset}";
    public const string Train = "datasets/{dataset}/train";
    public const string Report = "datasets/{dataset}/report";
    public const string Models = "datasets/{dataset}/models";
    public const string ModelFile = "datasets/{dataset}/models/{version}/{file}";
    public const string Publish = "datasets/{dataset}/models/{version}/publish";
    public const string Unpublish = "datasets/{dataset}/models/{version}/publish/{name}";
    public const string Score = "score/{dataset}";
    public const string Predictions = "datasets/{dataset}/predictions";
    public const string Prediction = "datasets/{dataset}/predictions/{id}";
    public const string LabelPrediction = "datasets/{dataset}/predictions/{id}/label";
    public const string UploadImage = "datasets/{dataset}/images/{label}/{file}";
    public const string Images = "datasets/{dataset}/images";
    public const string KnownImages = "datasets/{dataset}/images/known";
    public const string Image = "datasets/{dataset}/images/{split}/{label}/{file}";
    public const string MoveImage = "datasets/{dataset}/images/{split}/{label}/{file}/label";
    public const string Thumbnail = "datasets/{dataset}/thumbnails/{split}/{label}/{file}";
    public const string TrainingOptionList = "training/options";

    /// <summary>The OpenAPI document's name: the local host serves it at /openapi/v1.json
    /// (docs/openapi.json).</summary>
    public const string DocumentName = "v1";
    /// <summary>The OpenAPI tag of the pipeline's own routes (Custom Vision's have theirs).</summary>
    public const string Tag = "Pipeline";
    public const string DocumentPath = "/openapi/{documentName}.json";

    private const int MaxOptionsBytes = 64 * 1024;
    private const int MaxPublishBytes = 4 * 1024;
    private const int MaxLabelBytes = 16 * 1024;

    /// <summary>The local host's routes under /api, as the function app serves them, and the OpenAPI
    /// document.</summary>
    public static IEndpointRouteBuilder MapPipelineApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags(Tag);
        api.MapGet(Datasets, (DatasetApi datasets, CancellationToken ct) => ListAsync(datasets, ct))
            .WithName("ListDatasets")
            .WithSummary("Every dataset with its image, label and rejection counts, training state and model; " +
                "storage problems and uploads under an invalid dataset name")
            .ProducesProblem(503);
        api.MapGet(Dataset, (HttpRequest request, string dataset, DatasetApi datasets, CancellationToken ct) =>
                GetAsync(datasets, request, dataset, ct))
            .WithName("GetDataset")
            .WithSummary("A dataset's labels, splits, rejected uploads, training job and promoted model")
            .ProducesProblem(400).ProducesProblem(404);
        api.MapGet(Report, (string dataset, string? version, DatasetApi datasets, CancellationToken ct) =>
                ReportAsync(datasets, dataset, version, ct))
            .WithName("GetReport")
            .WithSummary("The training report of the promoted (or given) version, as one HTML page")
            .Produces(200, typeof(Stream), "text/html").ProducesProblem(400).ProducesProblem(404);
        api.MapGet(Models, (string dataset, DatasetApi datasets, CancellationToken ct) =>
                ModelsAsync(datasets, dataset, ct))
            .WithName("ListModels")
            .WithSummary("Every model version of a dataset with its test metrics and files, the promoted one and " +
                "the published names")
            .ProducesProblem(400).ProducesProblem(404);
        api.MapGet(ModelFile, (string dataset, string version, string file, DatasetApi datasets,
                CancellationToken ct) => ModelFileAsync(datasets, dataset, version, file, ct))
            .WithName("GetModelFile")
            .WithSummary("model.onnx, model.json, report.html or mistakes.json (each label's most confident " +
                "mistakes on the test split) of a version ('latest': the promoted one)")
            .Produces(200, typeof(Stream), "application/octet-stream", "application/json", "text/html")
            .ProducesProblem(400).ProducesProblem(404);
        api.MapPost(Publish, (HttpRequest request, string dataset, string version, PublishApi publish,
                CancellationToken ct) => PublishAsync(publish, request, dataset, version, ct))
            .WithName("PublishModel")
            .WithSummary("Point a published name (body: {\"name\":\"production\"}) at a version: publish, or roll " +
                "back by publishing an older version under the same name")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(413);
        api.MapDelete(Unpublish, (string dataset, string version, string name, PublishApi publish,
                CancellationToken ct) => UnpublishAsync(publish, dataset, version, name, ct))
            .WithName("UnpublishModel")
            .WithSummary("Remove a published name from the version it points to")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);
        api.MapPost(Train, (HttpRequest request, string dataset, DatasetApi datasets, CancellationToken ct) =>
                TrainAsync(datasets, request, dataset, ct))
            .WithName("TrainDataset")
            .WithSummary("Ask for a training run with the given options (empty: train.json or the default)")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(413);
        api.MapPost(Score, (HttpRequest request, string dataset, [AsParameters] ScoreParameters query,
                ScoreService scores, CancellationToken ct) => ScoreAsync(scores, request, dataset, query, ct))
            .WithName("Score")
            .WithSummary("Score one image (the body) or several (multipart/form-data) with the promoted model, a " +
                "published name or a version")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(408).ProducesProblem(413)
            .ProducesProblem(415).ProducesProblem(503);
        api.MapGet(Predictions, (string dataset, string? order, string? take, string? skip, PredictionApi kept,
                CancellationToken ct) => PredictionsAsync(kept, dataset, order, take, skip, ct))
            .WithName("ListPredictions")
            .WithSummary("Kept predictions (Custom Vision's image and url routes, score?store=true): order=uncertain " +
                "(smallest margin between the two most probable labels first) or newest; take (1 to 256, 50) and skip")
            .ProducesProblem(400);
        api.MapPost(LabelPrediction, (HttpRequest request, string dataset, string id, PredictionApi kept,
                CancellationToken ct) => LabelAsync(kept, request, dataset, id, ct))
            .WithName("LabelPrediction")
            .WithSummary("Label a kept image (body: {\"labels\":[\"rose\"]}): it is copied into " +
                "uploads/<dataset>/<label>/ for the next training, and no longer kept")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(413);
        api.MapDelete(Prediction, (string dataset, string id, PredictionApi kept, CancellationToken ct) =>
                DeletePredictionAsync(kept, dataset, id, ct))
            .WithName("DeletePrediction")
            .WithSummary("Drop a kept prediction and its image")
            .ProducesProblem(400).ProducesProblem(404);
        MapImages(api);
        MapCustomVision(app.MapGroup("/api").WithTags("Custom Vision").ExcludeFromDescription());
        app.MapOpenApi(DocumentPath);
        return app;
    }

    /// <summary>A dataset's images, one by one, and the training options: what the studio needs.</summary>
    private static void MapImages(RouteGroupBuilder api)
    {
        api.MapPost(Datasets, (HttpRequest request, DatasetImagesApi images, CancellationToken ct) =>
                DatasetImageRequests.CreateAsync(images, request, ct))
            .WithName("CreateDataset")
            .WithSummary("Create an empty dataset (body: {\"name\":\"flowers\"}): 201, or 200 when it exists")
            .ProducesProblem(400).ProducesProblem(413);
        api.MapPut(UploadImage, (HttpRequest request, string dataset, string label, string file, string? split,
                DatasetImagesApi images, CancellationToken ct) =>
                DatasetImageRequests.UploadAsync(images, request, dataset, label, file, split, ct))
            .WithName("UploadImage")
            .WithSummary("Upload one image (the body) to uploads/<dataset>/<label>/<file>: the split takes it as " +
                "any upload (split=train|test|val: into that split), and a refused file is listed with its reason " +
                "in GET /api/datasets/{dataset}")
            .Accepts<Stream>("application/octet-stream", "image/jpeg", "image/png")
            .ProducesProblem(400).ProducesProblem(413);
        api.MapPost(KnownImages, (HttpRequest request, string dataset, DatasetImagesApi images,
                CancellationToken ct) => DatasetImageRequests.KnownAsync(images, request, dataset, ct))
            .WithName("KnownImages")
            .WithSummary("Which of the given SHA-256 hashes (body: {\"sha256\":[...]}) the dataset already holds, " +
                "so an upload can skip them")
            .ProducesProblem(400).ProducesProblem(413);
        api.MapGet(Images, (string dataset, string? label, string? split, string? take, string? skip,
                DatasetImagesApi images, CancellationToken ct) =>
                DatasetImageRequests.ListAsync(images, dataset, label, split, take, skip, ct))
            .WithName("ListImages")
            .WithSummary("A page of accepted images, newest first: label and split (train or test) narrow it; " +
                $"take (1 to {DatasetImagesApi.MaxTake}, 50) and skip")
            .ProducesProblem(400);
        api.MapGet(Thumbnail, (string dataset, string split, string label, string file, DatasetImagesApi images,
                CancellationToken ct) => DatasetImageRequests.ThumbnailAsync(images, dataset, split, label, file, ct))
            .WithName("GetThumbnail")
            .WithSummary($"An accepted image at most {DatasetImagesApi.ThumbnailSide} pixels a side, as JPEG")
            .Produces(200, typeof(Stream), "image/jpeg").ProducesProblem(400).ProducesProblem(404)
            .ProducesProblem(422);
        api.MapPost(MoveImage, (HttpRequest request, string dataset, string split, string label, string file,
                DatasetImagesApi images, CancellationToken ct) =>
                DatasetImageRequests.MoveAsync(images, request, dataset, split, label, file, ct))
            .WithName("MoveImage")
            .WithSummary("Move an accepted image to another label (body: {\"label\":\"squares\"}); the next " +
                "training sees it there")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(413);
        api.MapDelete(Image, (string dataset, string split, string label, string file, DatasetImagesApi images,
                CancellationToken ct) => DatasetImageRequests.DeleteAsync(images, dataset, split, label, file, ct))
            .WithName("DeleteImage")
            .WithSummary("Delete an accepted image and the upload it came from; the next training leaves it out")
            .ProducesProblem(400).ProducesProblem(404);
        api.MapGet(TrainingOptionList, DatasetImageRequests.TrainingOptions)
            .WithName("ListTrainingOptions")
            .WithSummary("Every training option the trainer documents (JSON name, flag, help, type, default), " +
                "and the fast setting's options");
    }

    /// <summary>
    /// The Custom Vision Prediction API (v3.0 and v3.1, classification), so its clients need only a new endpoint and
    /// key. Kept out of the OpenAPI document: Custom Vision's own swagger describes it. Literal segments match in any
    /// case (clients send both <c>Prediction</c> and <c>prediction</c>).
    /// </summary>
    private static void MapCustomVision(RouteGroupBuilder api)
    {
        api.MapPost(CustomVisionRequests.Image, (HttpRequest request, string apiVersion, string projectId,
                string publishedName, CustomVisionApi cv, CancellationToken ct) =>
            CustomVisionRequests.ClassifyImageAsync(cv, request, apiVersion, projectId, publishedName, true, ct));
        api.MapPost(CustomVisionRequests.ImageNoStore, (HttpRequest request, string apiVersion, string projectId,
                string publishedName, CustomVisionApi cv, CancellationToken ct) =>
            CustomVisionRequests.ClassifyImageAsync(cv, request, apiVersion, projectId, publishedName, false, ct));
        api.MapPost(CustomVisionRequests.Url, (HttpRequest request, string apiVersion, string projectId,
                string publishedName, CustomVisionApi cv, CancellationToken ct) =>
            CustomVisionRequests.ClassifyUrlAsync(cv, request, apiVersion, projectId, publishedName, true, ct));
        api.MapPost(CustomVisionRequests.UrlNoStore, (HttpRequest request, string apiVersion, string projectId,
                string publishedName, CustomVisionApi cv, CancellationToken ct) =>
            CustomVisionRequests.ClassifyUrlAsync(cv, request, apiVersion, projectId, publishedName, false, ct));
    }

    public static async Task<Results<Ok<DatasetList>, ProblemHttpResult>> ListAsync(DatasetApi datasets,
        CancellationToken ct) => Answer(await datasets.ListAsync(ct));

    /// <summary>
    /// The answer links the promoted version's report by this request's own address (keeping a function key's
    /// <c>code</c>).
    /// </summary>
    public static async Task<Results<Ok<DatasetStatus>, ProblemHttpResult>> GetAsync(DatasetApi datasets,
        HttpRequest request, string dataset, CancellationToken ct)
    {
        var code = request.Query.TryGetValue("code", out var key)
            ? $"?code={Uri.EscapeDataString(key.ToString())}"
            : "";
        var path = request.Path.Value?.TrimEnd('/');
        var reportUrl = $"{request.Scheme}://{request.Host}{request.PathBase}{path}/report{code}";
        // ?rejected=all: whole rejection records, a page at a time (&continuation= from the last answer).
        return Answer(await datasets.GetAsync(dataset, reportUrl, ct, request.Query["rejected"].FirstOrDefault(),
            request.Query["continuation"].FirstOrDefault()));
    }

    /// <summary>GET .../report[?version=v]: the report page itself, as HTML.</summary>
    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> ReportAsync(DatasetApi datasets,
        string dataset, string? version, CancellationToken ct) =>
        File(await datasets.ReportAsync(dataset, version, ct), download: false);

    public static async Task<Results<Ok<ModelVersionList>, ProblemHttpResult>> ModelsAsync(DatasetApi datasets,
        string dataset, CancellationToken ct) => Answer(await datasets.ModelsAsync(dataset, ct));

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> ModelFileAsync(DatasetApi datasets,
        string dataset,
        string version, string file, CancellationToken ct) =>
        File(await datasets.ModelFileAsync(dataset, version, file, ct), download: true);

    public static async Task<Results<Ok<TrainResponse>, Accepted<TrainResponse>, ProblemHttpResult>> TrainAsync(
        DatasetApi datasets, HttpRequest request, string dataset, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        var buffer = new char[MaxOptionsBytes + 1];
        var read = await reader.ReadBlockAsync(buffer, ct);
        if (read > MaxOptionsBytes) return Problem(ApiResult.Fail(413, "Options too large",
            "Training options are at most 64 KB of JSON."));
        var result = await datasets.TrainAsync(dataset, new string(buffer, 0, read), ct);
        if (result.Problem is { } problem) return Problem(problem);
        return result.Status == StatusCodes.Status202Accepted
            ? TypedResults.Accepted((string?)null, result.Value)
            : TypedResults.Ok(result.Value);
    }

    public static async Task<Results<Ok<PublishResponse>, ProblemHttpResult>> PublishAsync(PublishApi publish,
        HttpRequest request, string dataset, string version, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        var buffer = new char[MaxPublishBytes + 1];
        var read = await reader.ReadBlockAsync(buffer, ct);
        if (read > MaxPublishBytes) return Problem(ApiResult.Fail(413, "Body too large",
            "The body is {\"name\":\"<name>\"}, a few bytes."));
        return Answer(await publish.PublishAsync(dataset, version, new string(buffer, 0, read), ct));
    }

    public static async Task<Results<Ok<PublishResponse>, ProblemHttpResult>> UnpublishAsync(PublishApi publish,
        string dataset, string version, string name, CancellationToken ct) =>
        Answer(await publish.UnpublishAsync(dataset, version, name, ct));

    public static async Task<Results<Ok<ScoreResponse>, Ok<ScoreManyResponse>, ProblemHttpResult>> ScoreAsync(
        ScoreService scores, HttpRequest request, string dataset, ScoreParameters parameters, CancellationToken ct)
    {
        var (query, badQuery) = parameters.Parse();
        if (badQuery is not null) return Problem(badQuery);
        var (uploads, unreadable) = await ImageRequest.ReadAsync(request, scores.MaxImageBytes, ct);
        if (unreadable is not null) return Problem(unreadable);
        var result = await scores.ScoreAsync(dataset, uploads, query!, ct);
        if (result is not { Value: { } scored }) return Problem(result.Problem!);
        if (request.HasFormContentType) return TypedResults.Ok(scored);
        var image = scored.Images[0];
        return TypedResults.Ok(new ScoreResponse(scored.Dataset, scored.ModelVersion, image.Predictions, image.Labels,
            scored.Model, image.PredictionId));
    }

    public static async Task<Results<Ok<PredictionList>, ProblemHttpResult>> PredictionsAsync(PredictionApi kept,
        string dataset, string? order, string? take, string? skip, CancellationToken ct) =>
        Answer(await kept.ListAsync(dataset, order, take, skip, ct));

    public static async Task<Results<Ok<LabelResponse>, ProblemHttpResult>> LabelAsync(PredictionApi kept,
        HttpRequest request, string dataset, string id, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        var buffer = new char[MaxLabelBytes + 1];
        var read = await reader.ReadBlockAsync(buffer, ct);
        if (read > MaxLabelBytes) return Problem(ApiResult.Fail(413, "Body too large",
            "The body is {\"labels\":[\"<label>\"]}, a few bytes."));
        return Answer(await kept.LabelAsync(dataset, id, new string(buffer, 0, read), ct));
    }

    public static async Task<Results<Ok<KeptPrediction>, ProblemHttpResult>> DeletePredictionAsync(PredictionApi kept,
        string dataset, string id, CancellationToken ct) => Answer(await kept.DeleteAsync(dataset, id, ct));

    private static Results<Ok<T>, ProblemHttpResult> Answer<T>(ApiResult<T> result) =>
        result.Problem is { } problem ? Problem(problem) : TypedResults.Ok(result.Value);

    private static Results<FileStreamHttpResult, ProblemHttpResult> File(ApiResult<ApiFile> result, bool download) =>
        result.Value is { } file
            ? TypedResults.Stream(file.Content, file.ContentType, download ? file.FileName : null)
            : Problem(result.Problem!);

    /// <summary>application/problem+json with the status, what was wrong (title) and what to do (detail).</summary>
    public static ProblemHttpResult Problem(ApiProblem problem) =>
        TypedResults.Problem(detail: problem.Detail, statusCode: problem.Status, title: problem.Title);
}
