using System.Net;
using System.Net.Http.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using Pipeline.Core.Training;
using Xunit;

namespace Pipeline.Tests;

[Collection(PipelineCollection.Name)]
public sealed class TrainingFailureTests(PipelineFixture pipeline)
{
    [Fact]
    public async Task A_dataset_the_trainer_refuses_fails_its_job_with_the_reason_and_promotes_nothing()
    {
        const string dataset = "too-few";
        // Six images of one label, three of the other: too few to learn from.
        var kept = GeneratedImages.Dataset(labels: 2, perLabel: 6, seed: 41).GroupBy(x => x.Label).SelectMany((g, k) => k == 0 ? g : g.Take(3)).ToList();
        foreach (var (label, file, content) in kept) await pipeline.UploadAsync($"{dataset}/{label}/{file}", content);
        await pipeline.WaitForAsync(dataset, s => s.TrainImages + s.TestImages == kept.Count, "the split", 120);

        using var response = await pipeline.Http.PostAsync($"datasets/{dataset}/train", JsonContent.Create(TrainingOptions.Fast, options: Json.Options));
        Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var job = (await response.Content.ReadFromJsonAsync<TrainResponse>(Json.Options))!.Job!.JobId;

        var done = await pipeline.WaitForAsync(dataset, s => s.Training is { IsActive: false } t && t.JobId == job, "the job to end", 300);
        Assert.Equal(TrainingState.Failed, done.Training!.State);
        Assert.Contains("at least 5", done.Training.Reason);
        Assert.Contains("(3)", done.Training.Reason);
        Assert.NotEqual(true, done.Training.Promoted);
        Assert.Null(done.Model);
        // A refusal is an answer, not a crash: the job is not retried into the poison queue.
        Assert.Equal(1, done.Training.Attempts);
        Assert.Null((await pipeline.Storage.TrainingPoisonQueue.PeekMessageAsync()).Value);
    }
}
