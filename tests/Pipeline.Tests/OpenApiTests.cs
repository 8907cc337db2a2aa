using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Local;
using Xunit;

namespace Pipeline.Tests;

/// <summary>
/// The OpenAPI document the local host serves is the one checked in as docs/openapi.json. After changing a route, write
/// the new one with <c>UPDATE_OPENAPI=1 dotnet test tests/Pipeline.Tests --filter OpenApiTests</c> and commit it.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class OpenApiTests(PipelineFixture pipeline)
{
    private static readonly string CheckedIn = Path.Combine(RepoRoot.Find(), "docs", "openapi.json");

    [Fact]
    public async Task The_served_document_is_the_checked_in_one_and_names_every_route()
    {
        using var response = await pipeline.Http.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var served = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var text = served.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        if (Environment.GetEnvironmentVariable("UPDATE_OPENAPI") == "1") await File.WriteAllTextAsync(CheckedIn, text);

        var paths = served["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Equal(
            [
                "/api/datasets", "/api/datasets/{dataset}", "/api/datasets/{dataset}/report",
                "/api/datasets/{dataset}/models", "/api/datasets/{dataset}/models/{version}/{file}",
                "/api/datasets/{dataset}/models/{version}/publish",
                "/api/datasets/{dataset}/models/{version}/publish/{name}",
                "/api/datasets/{dataset}/train", "/api/score/{dataset}",
                "/api/datasets/{dataset}/predictions", "/api/datasets/{dataset}/predictions/{id}/label",
                "/api/datasets/{dataset}/predictions/{id}",
                "/api/datasets/{dataset}/images/{label}/{file}", "/api/datasets/{dataset}/images/known",
                "/api/datasets/{dataset}/images", "/api/datasets/{dataset}/thumbnails/{split}/{label}/{file}",
                "/api/datasets/{dataset}/images/{split}/{label}/{file}/label",
                "/api/datasets/{dataset}/images/{split}/{label}/{file}", "/api/training/options",
            ],
            paths);
        Assert.True(File.Exists(CheckedIn),
            "docs/openapi.json is missing: write it with UPDATE_OPENAPI=1 (see this test's summary).");
        Assert.True(await File.ReadAllTextAsync(CheckedIn) == text,
            "docs/openapi.json differs from what the local host serves: write it again with UPDATE_OPENAPI=1 (see " +
                "this test's summary).");
    }
}
