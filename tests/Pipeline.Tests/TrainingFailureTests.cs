using Pipeline.Core.Contract;
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
        var job = await pipeline.UploadAndTrainAsync(dataset, kept);

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
