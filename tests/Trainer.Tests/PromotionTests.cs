using Pipeline.Core.Contract;
using Pipeline.Trainer.Job;
using Pipeline.Trainer.Training;
using Xunit;

namespace Pipeline.Trainer.Tests;

public class PromotionTests
{
    /// <summary>
    /// Promotion scores the new and the promoted model on the test split batch by batch (memory holds one batch,
    /// not the split): each model's accuracy is the one its own evaluation measured on the same files.
    /// </summary>
    [Fact]
    public async Task Models_scored_together_batch_by_batch_get_the_accuracy_their_evaluation_measured()
    {
        using var temp = new TempFolder();
        var train = SyntheticImages.WriteDataset(temp["data/train"], 10, seed: 1);
        var test = SyntheticImages.WriteDataset(temp["data/test"], 14, seed: 2);
        // A third of each label's test images filed under the next label: neither model can be always right.
        var labels = SyntheticImages.Labels;
        var moves = labels.SelectMany((label, k) => Directory.GetFiles(Path.Combine(test, label)).Order().Take(5)
            .Select(file => (file, Path.Combine(test, labels[(k + 1) % labels.Length], Path.GetFileName(file)))))
            .ToList();
        foreach (var (from, to) in moves) File.Move(from, to);

        var models = new[] { 1, 2 }.Select(seed =>
        {
            var outcome = TrainingRun.Run(new TrainingRequest(train, test, temp[$"model{seed}"],
                TrainingOptions.Fast with { Seed = seed, FineTune = "never" }), null, default);
            return ((ModelManifest Manifest, byte[] Model)?)(outcome.Manifest,
                File.ReadAllBytes(Path.Combine(outcome.ModelFolder, ModelFiles.Model)));
        }).ToList();

        var source = new FolderImageSource(train, test);
        var accuracies = await Promotion.TestAccuraciesAsync(source, models, default);

        Assert.Equal(14 * labels.Length, Directory.GetFiles(test, "*", SearchOption.AllDirectories).Length);
        for (var m = 0; m < models.Count; m++)
        {
            var measured = models[m]!.Value.Manifest.Metrics.Accuracy;
            Assert.InRange(measured, 0.3, 0.9);
            Assert.Equal(measured, accuracies[m]!.Value, 1e-9);
        }
        Assert.Null((await Promotion.TestAccuraciesAsync(source, [models[0], null], default))[1]);
    }
}
