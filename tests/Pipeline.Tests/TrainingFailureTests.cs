using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Pipeline.Core.Contract;
using Xunit;

namespace Pipeline.Tests;

[Collection(PipelineCollection.Name)]
public sealed class TrainingFailureTests(PipelineFixture pipeline)
{
    [Fact]
    public async Task A_label_with_too_few_images_is_answered_at_dispatch_with_a_409_and_no_job_is_queued()
    {
        const string dataset = "too-few";
        // Six images of one label, three of the other: too few to learn from.
        var kept = GeneratedImages.Dataset(labels: 2, perLabel: 6, seed: 41)
            .GroupBy(x => x.Label).SelectMany((g, k) => k == 0 ? g : g.Take(3)).ToList();
        foreach (var (label, file, content) in kept) await pipeline.UploadAsync($"{dataset}/{label}/{file}", content);
        var status = await pipeline.WaitForAsync(dataset, s => s.TrainImages + s.TestImages == kept.Count, "the split",
            120);

        using var response = await pipeline.Http.PostAsync($"datasets/{dataset}/train",
            JsonContent.Create(TrainingOptions.Fast, options: Json.Options));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement
            .GetProperty("detail").GetString()!;
        var small = kept.Select(k => k.Label).Distinct().Last();
        // The reason names the dataset and the label, and says what to do; never a temporary folder.
        Assert.Contains($"'{dataset}'", detail);
        Assert.Contains($"'{small}' (3)", detail);
        Assert.Contains($"uploads/{dataset}/", detail);
        Assert.DoesNotContain(Path.GetTempPath(), detail);

        // The status says why, and no job was queued (nor will the quiet period queue one).
        await Task.Delay(TimeSpan.FromSeconds(PipelineFixture.QuietSeconds + 3));
        status = (await pipeline.StatusAsync(dataset))!;
        Assert.Equal(detail, status.CannotTrain);
        Assert.Null(status.Training);
        Assert.Null(status.Model);
    }

    [Fact]
    public async Task A_dataset_of_one_label_is_refused_with_the_label_named()
    {
        const string dataset = "one-label";
        var images = GeneratedImages.Dataset(labels: 1, perLabel: 6, seed: 43);
        foreach (var (label, file, content) in images) await pipeline.UploadAsync($"{dataset}/{label}/{file}", content);
        await pipeline.WaitForAsync(dataset, s => s.TrainImages + s.TestImages == images.Count, "the split", 120);

        using var response = await pipeline.Http.PostAsync($"datasets/{dataset}/train", null);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var detail = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement
            .GetProperty("detail").GetString()!;
        Assert.Contains($"Dataset '{dataset}' cannot be trained yet: it has 1 label with training images " +
            $"('{images[0].Label}')", detail);
        Assert.Null((await pipeline.StatusAsync(dataset))!.Training);
    }
}
