using Microsoft.AspNetCore.Http.Metadata;
using Pipeline.Core.Serving;
using Pipeline.Http;

namespace Pipeline.Local;

/// <summary>
/// The function app's key check, simulated: with <c>Local__ApiKey</c> set, a request to a pipeline route without that
/// key (x-functions-key header or code query parameter) gets a 401 problem, as Azure refuses one without a function
/// key. The studio's page, the OpenAPI document and Custom Vision's routes (their own Prediction-Key) need none.
/// </summary>
public static class ApiKeyCheck
{
    public const string Setting = "Local:ApiKey";
    public const string Header = "x-functions-key";

    public static void UseApiKeyCheck(this WebApplication app)
    {
        var key = app.Configuration[Setting];
        if (string.IsNullOrEmpty(key)) return;
        app.Use(async (context, next) =>
        {
            var tags = context.GetEndpoint()?.Metadata.GetMetadata<ITagsMetadata>()?.Tags;
            var given = context.Request.Headers[Header].FirstOrDefault()
                ?? context.Request.Query["code"].FirstOrDefault();
            if (tags?.Contains(PipelineApi.Tag) == true && given != key)
            {
                var problem = ApiResult.Fail(401, given is null ? "Function key needed" : "Wrong function key",
                    $"Send the function key in the {Header} header (or the code query parameter). Locally it is the " +
                    "Local__ApiKey setting; in Azure: az functionapp keys list.");
                await PipelineApi.Problem(problem).ExecuteAsync(context);
                return;
            }
            await next(context);
        });
    }
}
