using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Pipeline.Cli;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;
using Pipeline.Local;
using Xunit;

namespace Pipeline.Tests;

/// <summary>
/// pipeline import customvision against a fake Custom Vision Training API v3.3 (written from its public swagger):
/// tags, tagged images in pages, one multilabel image, a throttled call, a cut (an original that fails) and the
/// resume, ending with the images split into train/test, the project's id kept as the dataset's and its classification
/// type in dataset.json; its untagged images counted, not imported.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class CustomVisionImportTests(PipelineFixture pipeline)
{
    private const string Dataset = "cv-import";
    private const string Key = "training-key";
    private static readonly Guid Project = Guid.Parse("1b7e5e0a-1111-4a4a-9c9c-0123456789ab");
    private static readonly Guid Circles = Guid.NewGuid(), Squares = Guid.NewGuid();

    [Fact]
    public async Task A_projects_tagged_images_are_imported_resumed_after_a_cut_and_split()
    {
        // 9 circles and 3 squares (4 with the multilabel one): too few squares to train, so no training starts.
        var generated = GeneratedImages.Dataset(labels: 2, perLabel: 6, seed: 11);
        var images = generated.Select((g, i) => (Id: Guid.NewGuid(), Label: i < 9 ? "circles" : "squares", g.Content))
            .ToList();
        var requests = new ConcurrentQueue<string>();
        var throttled = 0;
        var broken = images[4].Id; // fails the first time: the cut
        var port = Azurite.FreePort();
        using var server = new HttpListener();
        server.Prefixes.Add($"http://127.0.0.1:{port}/");
        server.Start();
        var serving = Task.Run(async () =>
        {
            while (server.IsListening)
            {
                HttpListenerContext context;
                try { context = await server.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
                await AnswerAsync(context);
            }
        });

        async Task AnswerAsync(HttpListenerContext context)
        {
            var path = context.Request.Url!.AbsolutePath;
            requests.Enqueue(context.Request.Url.PathAndQuery);
            var response = context.Response;
            var prefix = $"/customvision/v3.3/training/projects/{Project}";
            if (path.StartsWith("/originals/", StringComparison.Ordinal))
            {
                var id = Guid.Parse(path["/originals/".Length..]);
                if (id == broken) { broken = Guid.Empty; response.StatusCode = 500; }
                else await response.OutputStream.WriteAsync(images.Single(i => i.Id == id).Content);
            }
            else if (context.Request.Headers["Training-Key"] != Key)
                await JsonAsync(response, 401, new { code = "Unauthorized", message = "Access denied" });
            else if (!path.StartsWith(prefix, StringComparison.Ordinal))
                await JsonAsync(response, 404, new { code = "NotFoundProject", message = "Not found" });
            else if (path == prefix)
                await JsonAsync(response, 200, new
                {
                    id = Project, name = "shapes", description = "",
                    settings = new { domainId = Guid.Empty, classificationType = "Multilabel", useNegativeSet = true },
                    created = DateTime.UtcNow, lastModified = DateTime.UtcNow,
                });
            else if (path == $"{prefix}/images/untagged/count") await JsonAsync(response, 200, 3);
            else if (path == $"{prefix}/tags")
            {
                if (Interlocked.Increment(ref throttled) == 1)
                {
                    response.Headers["Retry-After"] = "1";
                    await JsonAsync(response, 429, new { code = "TooManyRequests", message = "Slow down" });
                }
                else await JsonAsync(response, 200, new object[]
                {
                    new { id = Circles, name = "circles", type = "Regular", imageCount = 9 },
                    new { id = Squares, name = "squares", type = "Regular", imageCount = 4 },
                });
            }
            else if (path == $"{prefix}/images/tagged")
            {
                var take = int.Parse(context.Request.QueryString["take"]!);
                var skip = int.Parse(context.Request.QueryString["skip"]!);
                await JsonAsync(response, 200, images.Skip(skip).Take(take).Select((image, i) => new
                {
                    id = image.Id, width = 80, height = 80, created = DateTime.UtcNow,
                    originalImageUri = $"http://127.0.0.1:{port}/originals/{image.Id}",
                    resizedImageUri = $"http://127.0.0.1:{port}/resized/{image.Id}",
                    // The first image is multilabel: both tags.
                    tags = (skip + i == 0 ? new[] { Circles, Squares } : [image.Label == "circles" ? Circles : Squares])
                        .Select(t => new { tagId = t, tagName = t == Circles ? "circles" : "squares" }),
                }));
            }
            else await JsonAsync(response, 404, new { code = "NotFound", message = "No such route" });
            response.Close();
        }

        var endpoint = $"http://127.0.0.1:{port}/";
        var wrongKey = await RunCliAsync("import", "customvision", "--endpoint", endpoint, "--training-key", "nope",
            "--project", Project.ToString(), "--dataset", Dataset);
        Assert.Equal(ExitCodes.Unreachable, wrongKey.Code);
        var unknown = await RunCliAsync("import", "customvision", "--endpoint", endpoint, "--training-key", Key,
            "--project", Guid.NewGuid().ToString(), "--dataset", Dataset);
        Assert.Equal(ExitCodes.NotFound, unknown.Code);

        string[] import = ["import", "customvision", "--endpoint", endpoint, "--training-key", Key,
            "--project", Project.ToString(), "--dataset", Dataset, "--page-size", "5", "--parallel", "3"];
        var cut = await RunCliAsync(import);
        Assert.True(cut.Code == ExitCodes.Failed, cut.Out + cut.Err);
        Assert.Contains("throttling", cut.Err);
        Assert.Contains($"failed {images[4].Id}", cut.Err);
        Assert.Contains("12 tagged images", cut.Out);
        Assert.Contains("Skipped 3 untagged images", cut.Out);
        // The project's classification type is the dataset's, written before the images.
        var settings = pipeline.Upload($"{Dataset}/dataset.json");
        var written = (await settings.DownloadContentAsync()).Value;
        Assert.Equal(Classification.Multilabel, DatasetSettings.Parse(written.Content.ToArray(), out var why)!
            .Classification);
        Assert.Null(why);
        Assert.Contains(requests, r => r.Contains("take=5&skip=10", StringComparison.Ordinal));

        var resumed = await RunCliAsync(import);
        Assert.True(resumed.Code == ExitCodes.Ok, resumed.Out + resumed.Err);
        Assert.Contains("Imported 1 images", resumed.Out);
        Assert.Contains("11 already there", resumed.Out);
        Assert.Equal(written.Details.ETag, (await settings.GetPropertiesAsync()).Value.ETag); // not written again

        var uploads = new List<string>();
        await foreach (var blob in pipeline.Storage.Uploads.GetBlobsAsync(BlobTraits.None, BlobStates.None,
            $"{Dataset}/", CancellationToken.None))
            uploads.Add(blob.Name);
        Assert.Equal(14, uploads.Count); // 12 images, the multilabel one under both tags, and dataset.json
        Assert.Contains($"{Dataset}/circles/{images[0].Id}.jpg", uploads);
        Assert.Contains($"{Dataset}/squares/{images[0].Id}.jpg", uploads);

        var project = await pipeline.Service<ProjectStore>().ReadAsync(Dataset, default);
        Assert.Equal(Project, project!.ProjectId);
        Assert.Equal(Circles, project.TagId("circles"));

        var status = await pipeline.WaitForAsync(Dataset, s => s.TrainImages + s.TestImages == 13,
            "the split of the imported images", 120);
        Assert.Equal(["circles", "squares"], status.Labels.Keys.Order());
        Assert.Equal(Classification.Multilabel, status.Classification);
        Assert.Contains("squares", status.CannotTrain);
        server.Stop();
        await serving;
    }

    private static async Task JsonAsync(HttpListenerResponse response, int status, object body)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(body)));
    }

    private async Task<(int Code, string Out, string Err)> RunCliAsync(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        string[] all = [.. args, "--connection-string", pipeline.Azurite.ConnectionString, "--api",
            pipeline.Http.BaseAddress!.ToString()];
        var code = await PipelineCli.RunAsync(all, new CliConsole(stdout, stderr, Interactive: false),
            CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
