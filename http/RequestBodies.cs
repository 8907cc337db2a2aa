using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;

namespace Pipeline.Http;

/// <summary>
/// The routes that read their body by hand (training options, images) describe it here, in the OpenAPI document only:
/// Accepts metadata would make routing refuse other content types, where these routes answer with a problem instead.
/// </summary>
internal static class RequestBodies
{
    public static async Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context,
        CancellationToken ct)
    {
        switch (operation.OperationId)
        {
            case "TrainDataset":
                var options = await context.GetOrCreateSchemaAsync(typeof(TrainingOptions), cancellationToken: ct);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Description = "Training options as in train.json; empty for the dataset's train.json or the " +
                        "default.",
                    Required = false,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = options },
                    },
                };
                break;
            case "PublishModel":
                var publish = await context.GetOrCreateSchemaAsync(typeof(PublishRequest), cancellationToken: ct);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Description = "The name to point at the version, such as {\"name\":\"production\"}.",
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = publish },
                    },
                };
                break;
            case "Score":
                operation.RequestBody = new OpenApiRequestBody
                {
                    Description = "One image as the body, or several as the files of a multipart/form-data body.",
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["image/*"] = new()
                        {
                            Schema = new OpenApiSchema
                            {
                                Type = JsonSchemaType.String,
                                Format = "binary"
                            }
                        },
                        ["multipart/form-data"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.Object } },
                    },
                };
                var one = await context.GetOrCreateSchemaAsync(typeof(ScoreResponse), cancellationToken: ct);
                var many = await context.GetOrCreateSchemaAsync(typeof(ScoreManyResponse), cancellationToken: ct);
                if (operation.Responses?.TryGetValue("200",
                    out var ok) == true && ok.Content?.TryGetValue("application/json", out var json) == true)
                    json.Schema = new OpenApiSchema { OneOf = [one, many] };
                operation.Description = "One image as the body answers its predictions; several images as " +
                    "multipart/form-data " +
                    "files (at most MaxImagesPerRequest) answer one entry each. Each prediction carries its " +
                    "threshold and whether it reaches it; labels lists the labels that do (never a Negative class).";
                break;
        }
    }
}
