using Pipeline.Core.Contract;
using Pipeline.Trainer.Training;
using Xunit;

namespace Pipeline.Trainer.Tests;

/// <summary>Real photos from ../shared/datasets; skipped with a reason where that folder is absent.</summary>
public class SharedDatasetTests
{
    [SkippableFact]
    public void Hymenoptera_from_shared_datasets_reaches_0_9_with_the_fast_setting()
    {
        var folder = SharedData.Require("hymenoptera");
        using var temp = new TempFolder();
        var outcome = TrainingRun.Run(new TrainingRequest(folder, null, temp["model"], TrainingOptions.Fast), null,
            default);
        Assert.True(outcome.Manifest.Metrics.Accuracy >= 0.9, $"accuracy {outcome.Manifest.Metrics.Accuracy}");
        Assert.Equal(153, outcome.Manifest.Metrics.TestImages); // val/ was used as the test split
    }
}
