using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;
using Pipeline.Core.Scoring;
using Pipeline.Core.Serving;
using Pipeline.Core.Training;
using Xunit;

namespace Pipeline.Tests;

/// <summary>The user's whole workflow: drop images into uploads, wait, score over HTTP.</summary>
[Collection(PipelineCollection.Name)]
public sealed class ScoringTests(PipelineFixture pipeline)
{
    internal const string Dataset = "shapes";
    private static readonly SemaphoreSlim Trained = new(1, 1);
    private static List<(string Label, string File, byte[] Content)>? images;

    /// <summary>The trained shapes dataset, for other test classes to reuse (it trains once per run).</summary>
    internal static Task<List<(string Label, string File, byte[] Content)>> TrainedShapesAsync(
        PipelineFixture pipeline) => new ScoringTests(pipeline).TrainedShapesAsync();

    /// <summary>Uploads the generated dataset once and waits until its model is promoted.</summary>
    private async Task<List<(string Label, string File, byte[] Content)>> TrainedShapesAsync()
    {
        await Trained.WaitAsync();
        try
        {
            if (images is not null) return images;
            var generated = GeneratedImages.Dataset(labels: 3, perLabel: 12, seed: 7);
            foreach (var (label, file, content) in generated) await pipeline.UploadAsync($"{Dataset}/{label}/{file}",
                content);
            await pipeline.WaitForAsync(Dataset, s => s.TrainImages + s.TestImages == generated.Count,
                "the split of 36 images", 120);
            var status = await pipeline.WaitForAsync(Dataset, s => s.Model is not null, "a promoted model", 600);
            Assert.Equal(TrainingState.Succeeded, status.Training!.State);
            return images = generated;
        }
        finally { Trained.Release(); }
    }

    [Fact]
    public async Task Images_dropped_into_uploads_are_split_trained_and_scored_over_http()
    {
        var generated = await TrainedShapesAsync();
        var status = (await pipeline.StatusAsync(Dataset))!;
        Assert.Equal(GeneratedImages.Labels, status.Labels.Keys.Order());
        Assert.True(status.TestImages > 0, "the hash split put no image in test");
        Assert.True(status.Training!.Promoted);
        Assert.Equal(status.Training.JobId, status.Model!.Version);

        var right = 0;
        foreach (var (label, _, content) in generated)
        {
            var response = await ScoreAsync(content, "image/jpeg");
            Assert.Equal(Dataset, response.Dataset);
            Assert.Equal(status.Model.Version, response.ModelVersion);
            Assert.Equal(3, response.Predictions.Count);
            Assert.Equal(response.Predictions.OrderByDescending(p => p.Probability).Select(p => p.Label),
                response.Predictions.Select(p => p.Label));
            Assert.InRange(response.Predictions.Sum(p => p.Probability), 0.99, 1.01);
            if (response.Predictions[0].Label == label) right++;
        }
        Assert.True(right >= generated.Count * 0.9, $"{right} of {generated.Count} right");

        var top1 = await ScoreAsync(generated[0].Content, "image/jpeg", "?top=1");
        Assert.Single(top1.Predictions);

        using var form = new MultipartFormDataContent();
        foreach (var (_, file, content) in generated.Take(2))
            form.Add(new ByteArrayContent(content)
            { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } }, "images", file);
        using var many = await pipeline.Http.PostAsync($"score/{Dataset}?top=2", form);
        Assert.Equal(HttpStatusCode.OK, many.StatusCode);
        var both = (await many.Content.ReadFromJsonAsync<ScoreManyResponse>(Json.Options))!;
        Assert.Equal(generated.Take(2).Select(g => g.File), both.Images.Select(i => i.Name));
        Assert.All(both.Images, i => Assert.Equal(2, i.Predictions.Count));
    }

    [Fact]
    public async Task Scoring_errors_say_what_was_wrong()
    {
        var generated = await TrainedShapesAsync();
        var jpeg = generated[0].Content;
        await ProblemAsync(Dataset, Encoding.UTF8.GetBytes("{\"hello\":1}"), "application/json",
            HttpStatusCode.UnsupportedMediaType, "not an image");
        await ProblemAsync(Dataset, jpeg[..(jpeg.Length / 2)], "image/jpeg", HttpStatusCode.BadRequest, "truncated");
        await ProblemAsync(Dataset, [], "image/jpeg", HttpStatusCode.BadRequest, "empty");
        await ProblemAsync(Dataset, new byte[PipelineFixture.MaxImageBytes + 1], "image/jpeg",
            HttpStatusCode.RequestEntityTooLarge, "limit");
        await ProblemAsync(Dataset, GeneratedImages.PngClaiming(9000, 9000), "image/png",
            HttpStatusCode.RequestEntityTooLarge, "megapixels");
        await ProblemAsync("no-such-dataset", jpeg, "image/jpeg", HttpStatusCode.NotFound, "no dataset");
        await ProblemAsync("Bad_Name", jpeg, "image/jpeg", HttpStatusCode.BadRequest, "lower-case");
        await pipeline.UploadAsync("no-model/dataset.json", Encoding.UTF8.GetBytes("{\"testFraction\":0.3}"));
        await ProblemAsync("no-model", jpeg, "image/jpeg", HttpStatusCode.NotFound, "no promoted model");
    }

    [Fact]
    public async Task Scoring_keeps_answering_while_a_new_version_is_promoted()
    {
        await TrainedShapesAsync();
        var versions = pipeline.Service<ModelStore>();
        var (latest, etag) = await versions.ReadLatestAsync(Dataset, CancellationToken.None);
        var image = images![0].Content;
        Assert.Equal(latest!.Version, (await ScoreAsync(image, "image/jpeg")).ModelVersion);

        // A second version: the promoted one's files under a new name, promoted while four clients keep scoring.
        var next = latest.Version + "-again";
        await foreach (var blob in pipeline.Storage.Models.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None,
            Azure.Storage.Blobs.Models.BlobStates.None, $"{Dataset}/{latest.Version}/", default))
        {
            var source = await pipeline.Storage.Models.GetBlobClient(blob.Name).DownloadContentAsync();
            await pipeline.Storage.Models.GetBlobClient(blob.Name.Replace(latest.Version, next))
                .UploadAsync(source.Value.Content);
        }
        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentBag<(HttpStatusCode Status, string? Version)>();
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var content = new ByteArrayContent(image)
                { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } };
                using var response = await pipeline.Http.PostAsync($"score/{Dataset}", content);
                var version = response.IsSuccessStatusCode
                    ? (await response.Content.ReadFromJsonAsync<ScoreResponse>(Json.Options))!.ModelVersion : null;
                seen.Add((response.StatusCode, version));
            }
        })).ToList();
        await Task.Delay(1000);
        Assert.True(await versions.PromoteAsync(latest with
        {
            Version = next,
            JobId = next,
            PromotedAt = DateTimeOffset.UtcNow
        }, etag, CancellationToken.None));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!seen.Any(s => s.Version == next) && DateTime.UtcNow < deadline) await Task.Delay(200);
        await Task.Delay(1000);
        stop.Cancel();
        await Task.WhenAll(clients);

        Assert.All(seen, s => Assert.Equal(HttpStatusCode.OK, s.Status));
        Assert.Contains(seen, s => s.Version == latest.Version);
        Assert.Contains(seen, s => s.Version == next);

        // Put the trained version back for the other tests.
        var (_, now) = await versions.ReadLatestAsync(Dataset, CancellationToken.None);
        Assert.True(await versions.PromoteAsync(latest with { PromotedAt = DateTimeOffset.UtcNow }, now,
            CancellationToken.None));
        deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await ScoreAsync(image, "image/jpeg")).ModelVersion != latest.Version
            && DateTime.UtcNow < deadline) await Task.Delay(200);
    }

    [Fact]
    public async Task A_burst_of_scoring_requests_is_shed_with_503_and_Retry_After_and_every_200_is_right()
    {
        var generated = await TrainedShapesAsync();
        var image = generated[0].Content;
        var expected = (await ScoreAsync(image, "image/jpeg")).Predictions[0].Label;

        // Far more callers at once than the limit (cores) and its queue (twice that) let in.
        var answers = await Task.WhenAll(Enumerable.Range(0, 48).Select(async _ =>
        {
            using var content = new ByteArrayContent(image);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            using var response = await pipeline.Http.PostAsync($"score/{Dataset}", content);
            return (response.StatusCode, response.Headers.RetryAfter?.Delta,
                response.Content.Headers.ContentType?.MediaType,
                Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable,
            $"{a.StatusCode}: {a.Body}"));
        var shed = answers.Where(a => a.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(shed);
        Assert.All(shed, a =>
        {
            Assert.Equal(TimeSpan.FromSeconds(1), a.Delta);
            Assert.Equal("application/problem+json", a.MediaType);
            Assert.Contains("try again", JsonDocument.Parse(a.Body).RootElement.GetProperty("detail").GetString());
        });
        var served = answers.Where(a => a.StatusCode == HttpStatusCode.OK).ToList();
        Assert.NotEmpty(served);
        Assert.All(served, a => Assert.Equal(expected, JsonSerializer.Deserialize<ScoreResponse>(a.Body,
            Json.Options)!.Predictions[0].Label));
    }

    private async Task<ScoreResponse> ScoreAsync(byte[] image, string contentType, string query = "")
    {
        using var content = new ByteArrayContent(image)
        { Headers = { ContentType = new MediaTypeHeaderValue(contentType) } };
        using var response = await pipeline.Http.PostAsync($"score/{Dataset}{query}", content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ScoreResponse>(Json.Options))!;
    }

    private async Task ProblemAsync(string dataset, byte[] body, string contentType, HttpStatusCode expected,
        string detail)
    {
        using var content = new ByteArrayContent(body)
        { Headers = { ContentType = new MediaTypeHeaderValue(contentType) } };
        using var response = await pipeline.Http.PostAsync($"score/{dataset}", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode,
            $"{dataset} {contentType} {body.Length} bytes: expected {expected}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Contains(detail, problem.RootElement.GetProperty("detail").GetString(),
            StringComparison.OrdinalIgnoreCase);
    }
}
