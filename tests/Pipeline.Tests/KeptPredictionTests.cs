using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Pipeline.Cli;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using Pipeline.Core.Storage;
using Xunit;

namespace Pipeline.Tests;

/// <summary>
/// Custom Vision's improve-your-classifier loop: scored images kept, listed least certain first, labelled into
/// uploads (where the split takes them), deleted; nostore keeps nothing. The shapes model is copied into a dataset
/// of its own, so labelling never starts a training of the shared shapes dataset.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class KeptPredictionTests(PipelineFixture pipeline)
{
    private const string Dataset = "cv-feedback";
    private const string Version = "20260301-000000-cccccc";

    [Fact]
    public async Task Scored_images_are_kept_listed_uncertain_first_labelled_into_uploads_and_deleted()
    {
        var images = await CopyShapesAsync();
        var cvIds = new List<Guid>();
        foreach (var (_, _, content) in images.Take(3))
            cvIds.Add(await ClassifyAsync(content, "/image"));
        await ClassifyAsync(images[3].Content, "/image/nostore");
        using (var score = new ByteArrayContent(images[4].Content)
        { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } })
        using (var response = await pipeline.Http.PostAsync($"score/{Dataset}?model=prod&store=true", score))
        {
            var answer = await response.Content.ReadFromJsonAsync<ScoreResponse>(Json.Options);
            cvIds.Add(answer!.PredictionId!.Value);
        }
        using (var plain = new ByteArrayContent(images[5].Content)
        { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } })
        using (var response = await pipeline.Http.PostAsync($"score/{Dataset}?model=prod", plain))
            Assert.Null((await response.Content.ReadFromJsonAsync<ScoreResponse>(Json.Options))!.PredictionId);

        var uncertain = await ListAsync("?order=uncertain");
        Assert.Equal(4, uncertain.Total);
        Assert.Equal(cvIds.Order(), uncertain.Predictions.Select(p => p.Id).Order());
        Assert.Equal(uncertain.Predictions.Select(p => p.Margin).Order(), uncertain.Predictions.Select(p => p.Margin));
        Assert.All(uncertain.Predictions, p =>
        {
            Assert.Equal(Version, p.ModelVersion);
            Assert.Equal(3, p.Predictions.Count);
            Assert.Equal(KeptPrediction.MarginOf(p.Predictions), p.Margin, 9);
        });
        var page = await ListAsync("?order=newest&take=2&skip=1");
        Assert.Equal(2, page.Predictions.Count);
        Assert.Equal(4, page.Total);
        await ProblemAsync(HttpStatusCode.BadRequest,
            pipeline.Http.GetAsync($"datasets/{Dataset}/predictions?order=x"));

        // Label the least certain one: its image goes to uploads/<dataset>/<label>/ and the split takes it.
        var first = uncertain.Predictions[0];
        using (var label = await pipeline.Http.PostAsync($"datasets/{Dataset}/predictions/{first.Id}/label",
            JsonContent.Create(new { labels = new[] { "circles" } })))
        {
            var answer = await label.Content.ReadFromJsonAsync<LabelResponse>(Json.Options);
            Assert.Equal([$"uploads/{Dataset}/circles/{first.Image}"], answer!.Uploads);
        }
        Assert.True((await pipeline.Upload($"{Dataset}/circles/{first.Image}").ExistsAsync()).Value);
        var status = await pipeline.WaitForAsync(Dataset, s => s.Labels.ContainsKey("circles"),
            "the labelled image's split", 60);
        Assert.Equal(1, status.Labels["circles"].Train + status.Labels["circles"].Test);
        Assert.Equal(3, (await ListAsync("")).Total);

        await ProblemAsync(HttpStatusCode.BadRequest, pipeline.Http.PostAsync(
            $"datasets/{Dataset}/predictions/{uncertain.Predictions[1].Id}/label",
            JsonContent.Create(new { labels = new[] { "a/b" } })));
        await ProblemAsync(HttpStatusCode.NotFound, pipeline.Http.PostAsync(
            $"datasets/{Dataset}/predictions/{first.Id}/label",
            JsonContent.Create(new { labels = new[] { "circles" } })));
        var second = uncertain.Predictions[1].Id;
        using (var deleted = await pipeline.Http.DeleteAsync($"datasets/{Dataset}/predictions/{second}"))
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        await ProblemAsync(HttpStatusCode.NotFound,
            pipeline.Http.DeleteAsync($"datasets/{Dataset}/predictions/{uncertain.Predictions[1].Id}"));
        await ProblemAsync(HttpStatusCode.BadRequest,
            pipeline.Http.DeleteAsync($"datasets/{Dataset}/predictions/nope"));
        Assert.Equal(2, (await ListAsync("")).Total);

        // The command line: list least certain first, label one.
        var listed = await RunCliAsync("predictions", Dataset, "--uncertain");
        Assert.Equal(ExitCodes.Ok, listed.Code);
        var next = (await ListAsync("?order=uncertain")).Predictions[0];
        Assert.Contains(next.Id.ToString(), listed.Out);
        var labelled = await RunCliAsync("label", Dataset, next.Id.ToString(), "squares");
        Assert.True(labelled.Code == ExitCodes.Ok, labelled.Err);
        Assert.Contains($"uploads/{Dataset}/squares/", labelled.Out);
        Assert.Equal(1, (await ListAsync("")).Total);
        Assert.Equal(ExitCodes.Usage, (await RunCliAsync("label", Dataset, next.Id.ToString(), "a/b")).Code);

        // The sweep deletes nothing younger than the kept days, and everything older.
        var store = pipeline.Service<PredictionStore>();
        Assert.Equal(0, await store.DeleteOlderThanAsync(30, default));
        Assert.True(await store.DeleteOlderThanAsync(-1, default) >= 2);
        Assert.Equal(0, (await ListAsync("")).Total);
    }

    [Fact]
    public async Task A_labelled_prediction_is_in_the_next_trainings_images()
    {
        // 6 circles and 4 squares: one square short of a dataset that can be trained, until a kept prediction is
        // labelled squares. Another seed than the shapes model's, so the kept image is none of these.
        const string dataset = "cv-feedback-train";
        var shapes = await CopyShapesAsync(dataset);
        var kept = await ClassifyAsync(shapes.First(s => s.Label == "squares").Content, "/image", dataset);
        var uploads = GeneratedImages.Dataset(labels: 2, perLabel: 6, seed: 23)
            .Where(i => i.Label == "circles" || i.File != "squares-000.jpg" && i.File != "squares-001.jpg").ToList();
        foreach (var (label, file, content) in uploads)
            await pipeline.UploadAsync($"{dataset}/{label}/{file}", content);
        var before = await pipeline.WaitForAsync(dataset, s => s.TrainImages + s.TestImages == 10,
            "the split of 10 uploads", 120);
        Assert.NotNull(before.CannotTrain);
        Assert.Null(before.Training);

        using (var label = await pipeline.Http.PostAsync($"datasets/{dataset}/predictions/{kept}/label",
            JsonContent.Create(new { labels = new[] { "squares" } })))
            Assert.True(label.IsSuccessStatusCode, await label.Content.ReadAsStringAsync());

        // The split takes it, the quiet period ends, and the job queued then counts it; so does the trainer.
        var queued = await pipeline.WaitForAsync(dataset, s => s.Training is not null,
            "a training after the label", 120);
        Assert.Equal(5, queued.Labels["squares"].Train + queued.Labels["squares"].Test);
        Assert.Equal(11, queued.Training!.TrainImages + queued.Training.TestImages);
        var trained = await pipeline.WaitForAsync(dataset, s => s.Training?.Trained is not null,
            "the trainer's count of the images", 600);
        Assert.Equal(11, trained.Training!.Trained!.TrainImages + trained.Training.Trained.TestImages);
        Assert.Equal(0, (await ListAsync("", dataset)).Total);
    }

    /// <summary>The shapes model as version <see cref="Version"/> of a dataset of its own, published as prod.</summary>
    private async Task<List<(string Label, string File, byte[] Content)>> CopyShapesAsync(string dataset = Dataset)
    {
        var images = await ScoringTests.TrainedShapesAsync(pipeline);
        var versions = pipeline.Service<ModelStore>();
        var (latest, _) = await versions.ReadLatestAsync(ScoringTests.Dataset, default);
        foreach (var file in new[] { ModelFiles.Model, ModelFiles.Manifest })
        {
            var content = (await versions.VersionFile(ScoringTests.Dataset, latest!.Version, file)
                .DownloadContentAsync()).Value.Content;
            await versions.VersionFile(dataset, Version, file).UploadAsync(content, overwrite: true);
        }
        using var publish = await pipeline.Http.PostAsync($"datasets/{dataset}/models/{Version}/publish",
            JsonContent.Create(new { name = "prod" }));
        Assert.True(publish.IsSuccessStatusCode, await publish.Content.ReadAsStringAsync());
        return images;
    }

    private async Task<Guid> ClassifyAsync(byte[] image, string route, string dataset = Dataset)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post,
            $"customvision/v3.1/Prediction/{dataset}/classify/iterations/prod{route}")
        { Content = new ByteArrayContent(image) };
        request.Headers.Add("Prediction-Key", PipelineFixture.PredictionKey);
        using var response = await pipeline.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return Guid.Parse(JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!);
    }

    private async Task<PredictionList> ListAsync(string query, string dataset = Dataset) =>
        (await pipeline.Http.GetFromJsonAsync<PredictionList>($"datasets/{dataset}/predictions{query}", Json.Options))!;

    private static async Task ProblemAsync(HttpStatusCode status, Task<HttpResponseMessage> call)
    {
        using var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode} instead of {status}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
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
