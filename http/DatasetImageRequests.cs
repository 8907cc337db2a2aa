using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Pipeline.Core.Serving;

namespace Pipeline.Http;

/// <summary>
/// The requests of a dataset's images (<see cref="DatasetImagesApi"/>): create a dataset, upload an image to a label,
/// ask which files are already there, list, thumbnail, move and delete; and the training options a form offers.
/// </summary>
public static class DatasetImageRequests
{
    private const int MaxSmallBody = 16 * 1024;
    private const int MaxKnownBody = 256 * 1024;

    public static async Task<Results<Ok<CreateDatasetResponse>, Created<CreateDatasetResponse>, ProblemHttpResult>>
        CreateAsync(DatasetImagesApi images, HttpRequest request, CancellationToken ct)
    {
        var (body, tooLarge) = await ReadAsync(request, MaxSmallBody, ct);
        if (tooLarge is not null) return PipelineApi.Problem(tooLarge);
        var result = await images.CreateAsync(body, ct);
        if (result.Problem is { } problem) return PipelineApi.Problem(problem);
        return result.Status == StatusCodes.Status201Created
            ? TypedResults.Created($"datasets/{result.Value!.Dataset}", result.Value)
            : TypedResults.Ok(result.Value);
    }

    public static async Task<Results<Accepted<ImageUploadResponse>, ProblemHttpResult>> UploadAsync(
        DatasetImagesApi images, HttpRequest request, string dataset, string label, string file, string? split,
        CancellationToken ct)
    {
        if (request.ContentLength > images.MaxImageBytes)
            return PipelineApi.Problem(ApiResult.Fail(413, "Image too large",
                $"The file is larger than the limit of {images.MaxImageBytes / (1024 * 1024)} MB. Resize or " +
                "recompress it."));
        var result = await images.UploadAsync(dataset, label, file, split, request.Body, ct);
        return result.Problem is { } problem
            ? PipelineApi.Problem(problem)
            : TypedResults.Accepted((string?)null, result.Value);
    }

    public static async Task<Results<Ok<KnownImagesResponse>, ProblemHttpResult>> KnownAsync(
        DatasetImagesApi images, HttpRequest request, string dataset, CancellationToken ct)
    {
        var (body, tooLarge) = await ReadAsync(request, MaxKnownBody, ct);
        if (tooLarge is not null) return PipelineApi.Problem(tooLarge);
        return Answer(await images.KnownAsync(dataset, body, ct));
    }

    public static async Task<Results<Ok<ImagePage>, ProblemHttpResult>> ListAsync(DatasetImagesApi images,
        string dataset, string? label, string? split, string? take, string? skip, CancellationToken ct) =>
        Answer(await images.ListAsync(dataset, label, split, take, skip, ct));

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> ThumbnailAsync(
        DatasetImagesApi images, string dataset, string split, string label, string file, CancellationToken ct)
    {
        var result = await images.ThumbnailAsync(dataset, split, label, file, ct);
        // Named by content hash: the same name is always the same picture.
        return result.Value is { } thumbnail
            ? TypedResults.Stream(thumbnail.Content, thumbnail.ContentType,
                entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{file}\""))
            : PipelineApi.Problem(result.Problem!);
    }

    public static async Task<Results<Ok<MoveImageResponse>, ProblemHttpResult>> MoveAsync(DatasetImagesApi images,
        HttpRequest request, string dataset, string split, string label, string file, CancellationToken ct)
    {
        var (body, tooLarge) = await ReadAsync(request, MaxSmallBody, ct);
        if (tooLarge is not null) return PipelineApi.Problem(tooLarge);
        return Answer(await images.MoveAsync(dataset, split, label, file, body, ct));
    }

    public static async Task<Results<Ok<ImageEntry>, ProblemHttpResult>> DeleteAsync(DatasetImagesApi images,
        string dataset, string split, string label, string file, CancellationToken ct) =>
        Answer(await images.DeleteAsync(dataset, split, label, file, ct));

    public static Ok<TrainingOptionList> TrainingOptions() => TypedResults.Ok(TrainingOptionList.Describe());

    private static async Task<(string Body, ApiProblem? TooLarge)> ReadAsync(HttpRequest request, int max,
        CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        var buffer = new char[max + 1];
        var read = await reader.ReadBlockAsync(buffer, ct);
        return read > max
            ? ("", ApiResult.Fail(413, "Body too large", $"The body is JSON of at most {max / 1024} KB."))
            : (new string(buffer, 0, read), null);
    }

    private static Results<Ok<T>, ProblemHttpResult> Answer<T>(ApiResult<T> result) =>
        result.Problem is { } problem ? PipelineApi.Problem(problem) : TypedResults.Ok(result.Value);
}
