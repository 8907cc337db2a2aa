using Pipeline.Core.Contract;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;
using Xunit;

namespace Pipeline.Tests;

[Collection(PipelineCollection.Name)]
public sealed class TrainerCrashTests(PipelineFixture pipeline)
{
    [Fact]
    public async Task A_trainer_killed_mid_run_is_retried_and_its_version_promoted_once()
    {
        const string dataset = "crash";
        var job = await pipeline.UploadAndTrainAsync(dataset,
            GeneratedImages.Dataset(labels: 2, perLabel: 10, seed: 31));

        var running = await pipeline.WaitForAsync(dataset, s => s.Training is { State: TrainingState.Running } t
            && t.JobId == job, "the job to start", 300);
        Assert.Equal(1, running.Training!.Attempts);
        var starts = pipeline.Trainer.Starts;
        pipeline.Trainer.Current!.Kill(entireProcessTree: true);

        var done = await pipeline.WaitForAsync(dataset, s => s.Training is { IsActive: false } t && t.JobId == job,
            "the retried job to finish", 600);
        Assert.True(pipeline.Trainer.Starts > starts, "the host did not restart the trainer");
        Assert.Equal(TrainingState.Succeeded, done.Training!.State);
        Assert.True(done.Training.Attempts >= 2, $"attempts: {done.Training.Attempts}");
        Assert.True(done.Training.Promoted);
        Assert.Equal(job, done.Model!.Version);
        Assert.Equal([job], await pipeline.Service<ModelStore>().ListVersionsAsync(dataset, CancellationToken.None));
        Assert.Null((await pipeline.Storage.TrainingPoisonQueue.PeekMessageAsync()).Value);
    }
}
