using System.Net;
using System.Text.Json;
using Pipeline.Local;
using Xunit;

namespace Pipeline.Tests;

/// <summary>The local host survives its storage failing under it, says why, and recovers by itself.</summary>
[Collection(PipelineCollection.Name)]
public sealed class StorageFaultTests(PipelineFixture pipeline)
{
    [Fact]
    public async Task A_name_that_breaks_the_listing_is_reported_the_host_stays_up_and_splits_again_once_it_is_gone()
    {
        // A 0x01 in a name makes Azurite's List Blobs answer 500 for the whole container.
        const string bad = "hostile/label/bad%01name.jpg";
        Assert.Equal(201, await RawBlobRequest.PutAsync(pipeline.Storage.Uploads, bad, GeneratedImages.Jpeg(0,
            new Random(1))));
        try
        {
            var problems = await ProblemsAsync(p => p.Any(l => l.Contains("uploads cannot be listed")),
                "the listing failure to be reported");
            Assert.Contains(problems, l => l.Contains("control character"));

            // Meanwhile another dataset's upload waits; the host keeps answering.
            await pipeline.UploadAsync("after-fault/circles/a.jpg", GeneratedImages.Jpeg(0, new Random(2)));
            await Task.Delay(TimeSpan.FromSeconds(3));
            using (var alive = await pipeline.Http.GetAsync("datasets"))
                Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        }
        finally { Assert.Equal(202, await RawBlobRequest.DeleteAsync(pipeline.Storage.Uploads, bad)); }

        var status = await pipeline.WaitForAsync("after-fault", s => s.TrainImages + s.TestImages == 1,
            "the upload to be split once the bad name is gone", 120);
        Assert.Equal(1, status.Labels["circles"].Train + status.Labels["circles"].Test);
        await ProblemsAsync(p => !p.Any(l => l.Contains("uploads")), "the problem to clear");
    }

    [SkippableFact]
    public async Task When_Azurite_goes_away_the_host_answers_503_with_since_when_and_recovers_when_it_is_back()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "Finds the host's Azurite through /proc.");
        await using var host = await LocalHostProcess.StartAsync(new Dictionary<string,
            string>
        { ["Local__RunTrainer"] = "false" });
        var azurite = Children(host.Process.Id).Single(pid
            => File.ReadAllText($"/proc/{pid}/cmdline").Contains("azurite"));
        System.Diagnostics.Process.GetProcessById(azurite).Kill();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        string detail = "";
        while (DateTime.UtcNow < deadline && !detail.Contains("storage unreachable since"))
        {
            using var response = await host.Http.GetAsync("datasets");
            detail = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable) Assert.Equal("application/problem+json",
                response.Content.Headers.ContentType?.MediaType);
            await Task.Delay(500);
        }
        Assert.Contains("storage unreachable since", detail);
        Assert.False(host.Process.HasExited);

        // Azurite back on the same ports and data: the host splits again by itself.
        await using var again = await Azurite.StartAsync(RepoRoot.Find(), host.DataFolder, host.BlobPort, host.BlobPort
            + 1, host.BlobPort + 2,
            _ => { }, CancellationToken.None);
        // Its data went with the kill: the host makes its containers again once it sees storage back.
        for (var tries = 0; ; tries++)
        {
            try
            {
                await host.Storage.Uploads.GetBlobClient("back/circles/a.jpg")
                    .UploadAsync(new BinaryData(GeneratedImages.Jpeg(0, new Random(3))));
                break;
            }
            catch (Azure.RequestFailedException e) when (e.ErrorCode == "ContainerNotFound"
                && tries < 120)
            { await Task.Delay(500); }
        }
        var status = await host.WaitForAsync("back", s => s.TrainImages + s.TestImages == 1,
            "the split after storage came back", 120);
        Assert.Single(status.Labels);
        using var healthy = await host.Http.GetAsync("datasets");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    /// <summary>Processes whose parent is <paramref name="pid"/>, from /proc.</summary>
    private static List<int> Children(int pid) => Directory.GetDirectories("/proc")
        .Select(d => int.TryParse(Path.GetFileName(d), out var p) ? p : 0).Where(p => p > 0)
        .Where(p =>
        {
            try { return File.ReadAllText($"/proc/{p}/stat").Split(") ")[1].Split(' ')[1] == $"{pid}"; }
            catch (IOException) { return false; }
        }).ToList();

    private async Task<List<string>> ProblemsAsync(Func<List<string>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await pipeline.Http.GetAsync("datasets");
            last = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var problems = JsonDocument.Parse(last).RootElement.GetProperty("problems").EnumerateArray()
                .Select(p => p.GetString()!).ToList();
            if (done(problems)) return problems;
            await Task.Delay(500);
        }
        throw new TimeoutException($"Waited for {what}; last answer: {last}");
    }
}
