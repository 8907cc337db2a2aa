using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Contract;

namespace Pipeline.Http;

public static class HttpServices
{
    /// <summary>
    /// What both hosts' HTTP edges need: ProblemDetails for errors, the contract's JSON settings (camelCase, enums as
    /// strings, no nulls, indented) for every answer, and the OpenAPI document of the routes.
    /// </summary>
    public static IServiceCollection AddPipelineHttp(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.Configure<JsonOptions>(o =>
        {
            var json = o.SerializerOptions;
            json.WriteIndented = Json.Options.WriteIndented;
            json.DefaultIgnoreCondition = Json.Options.DefaultIgnoreCondition;
            foreach (var converter in Json.Options.Converters) json.Converters.Add(converter);
        });
        services.AddOpenApi(PipelineApi.DocumentName, o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Image classification pipeline";
            document.Info.Version = "v1";
            document.Info.Description = "Datasets, training and scoring. In Azure every route needs a function key " +
                "(x-functions-key header or code query parameter).";
            document.Servers = [];
            return Task.CompletedTask;
        }).AddOperationTransformer(RequestBodies.DescribeAsync));
        return services;
    }
}
