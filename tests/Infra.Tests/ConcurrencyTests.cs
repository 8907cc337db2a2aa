using System.Text.Json;

namespace Pipeline.Infra.Tests;

/// <summary>
/// Scoring is CPU-bound: each instance takes a few requests at once and Flex Consumption scales out beyond them.
/// </summary>
[Collection(SnapshotCollection.Name)]
public sealed class ConcurrencyTests(DefaultSnapshot fixture)
{
    [Fact]
    public void Each_instance_takes_as_many_http_requests_as_the_host_runs_at_once()
    {
        var scale = fixture.Snapshot.Single("Microsoft.Web/sites").GetProperty("properties")
            .GetProperty("functionAppConfig")
            .GetProperty("scaleAndConcurrency");
        var perInstance = scale.GetProperty("triggers").GetProperty("http").GetProperty("perInstanceConcurrency")
            .GetInt32();

        using var host = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("host.json")));
        var http = host.RootElement.GetProperty("extensions").GetProperty("http");
        Assert.Equal(perInstance, http.GetProperty("maxConcurrentRequests").GetInt32());
        // Beyond the queue the host answers 429 at once instead of keeping callers waiting.
        Assert.InRange(http.GetProperty("maxOutstandingRequests").GetInt32(), perInstance, 16 * perInstance);
    }
}
