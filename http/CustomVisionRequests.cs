using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Pipeline.Core.Serving;

namespace Pipeline.Http;

/// <summary>
/// The Custom Vision Prediction API's requests (v3.0 and v3.1, classification): an image as the body
/// (application/octet-stream) or as the multipart part <c>imageData</c>, or <c>{"url":"..."}</c>; the key in the
/// <c>Prediction-Key</c> header; answers in Custom Vision's shapes, errors as <c>{ code, message }</c>.
/// </summary>
public static class CustomVisionRequests
{
    private const string Prefix =
        "customvision/{apiVersion}/prediction/{projectId}/classify/iterations/{publishedName}";
    public const string Image = Prefix + "/image";
    public const string ImageNoStore = Prefix + "/image/nostore";
    public const string Url = Prefix + "/url";
    public const string UrlNoStore = Prefix + "/url/nostore";
    public const string KeyHeader = "Prediction-Key";
    private const int MaxUrlBodyBytes = 4 * 1024;

    public static async Task<Results<Ok<ImagePrediction>, JsonHttpResult<CustomVisionError>>> ClassifyImageAsync(
        CustomVisionApi api, HttpRequest request, string apiVersion, string projectId, string publishedName,
        bool store, CancellationToken ct)
    {
        if (api.Check(apiVersion, request.Headers[KeyHeader]) is { } refused) return Answer(refused);
        var (uploads, unreadable) = await ImageRequest.ReadAsync(request, api.MaxImageBytes, ct);
        var image = uploads.FirstOrDefault(u => u.Name == "imageData") ?? uploads.FirstOrDefault();
        return Answer(await api.ClassifyImageAsync(apiVersion, projectId, publishedName, image, unreadable, store,
            ct));
    }

    public static async Task<Results<Ok<ImagePrediction>, JsonHttpResult<CustomVisionError>>> ClassifyUrlAsync(
        CustomVisionApi api, HttpRequest request, string apiVersion, string projectId, string publishedName,
        bool store, CancellationToken ct)
    {
        if (api.Check(apiVersion, request.Headers[KeyHeader]) is { } refused) return Answer(refused);
        using var reader = new StreamReader(request.Body);
        var buffer = new char[MaxUrlBodyBytes + 1];
        var read = await reader.ReadBlockAsync(buffer, ct);
        if (read > MaxUrlBodyBytes)
            return Answer(CustomVisionResult.Fail(400, "BadRequestImageUrl",
                "The body is {\"url\":\"https://...\"}, at most 4 KB."));
        return Answer(await api.ClassifyUrlAsync(apiVersion, projectId, publishedName, new string(buffer, 0, read),
            store, ct));
    }

    private static Results<Ok<ImagePrediction>, JsonHttpResult<CustomVisionError>> Answer(CustomVisionResult result) =>
        result.Value is { } value
            ? TypedResults.Ok(value)
            : TypedResults.Json(result.Error!, statusCode: result.Status);
}
