using Pipeline.Core.Contract;
using Pipeline.Core.Scoring;
using Pipeline.Trainer.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace Pipeline.Trainer.Tests;

/// <summary>The recipe spends backbone passes only where the data asks for them, and says which path it took.</summary>
public class RecipeTests
{
    [Fact]
    public void An_easy_set_takes_the_cheap_path_one_pass_and_no_fine_tuning()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 14, seed: 4);

        // Even with time to spare, the data decides: the frozen head leaves nothing for fine-tuning to gain.
        var run = TrainerCommandLine.Run("train", "--data", data, "--out", temp["model"], "--budget", "10");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        Assert.Contains(run.Lines, l => l.Contains("fine-tune: not tried") && l.Contains("cross-validation"));
        Assert.DoesNotContain(run.Lines, l => l.Contains(" views ") || l.Contains("fine-tune epoch"));
        var recipe = ModelFiles.ReadManifest(File.ReadAllText(Path.Combine(temp["model"], "model.json"))).Recipe!;
        Assert.StartsWith("lbfgs", recipe.Head);
        Assert.True(recipe.CrossValidatedAccuracy >= 0.97, $"cross-validated accuracy {recipe.CrossValidatedAccuracy}");
        Assert.StartsWith("not tried", recipe.FineTune);
        Assert.False(recipe.FineTuned);
        Assert.Equal(0, recipe.AugmentedViews);
        Assert.False(recipe.FlipAverage);
        Assert.StartsWith("out-of-fold", recipe.Thresholds);
    }

    [Fact]
    public void Fine_tuning_is_tried_where_the_frozen_head_cannot_separate_the_labels()
    {
        using var temp = new TempFolder();
        var data = FaintMarks(temp["data"], 40, seed: 6);
        var options = new TrainingOptions
        {
            FineTuneEpochs = 2, AugmentedViews = 1, FineTuneMinimumPerLabel = 20,
            BudgetMinutes = 30
        };

        var outcome = TrainingRun.Run(new TrainingRequest(data, null, temp["model"], options), null, default);

        var recipe = outcome.Manifest.Recipe!;
        Assert.True(recipe.CrossValidatedAccuracy < 0.97, $"cross-validated accuracy {recipe.CrossValidatedAccuracy}");
        Assert.Matches("^(kept|not kept): validation loss", recipe.FineTune);
        Assert.Equal(1, recipe.AugmentedViews);
        Assert.Contains(outcome.Manifest.History, e => e.Stage == "fine-tune");
        Assert.Equal(recipe.FineTune.StartsWith("kept"), recipe.FineTuned);
    }

    [Fact]
    public void Without_a_time_budget_auto_stops_at_the_frozen_model_and_caches_no_activations()
    {
        using var temp = new TempFolder();
        var data = FaintMarks(temp["data"], 20, seed: 9);
        var options = new TrainingOptions { FineTuneMinimumPerLabel = 5 };

        var outcome = TrainingRun.Run(new TrainingRequest(data, null, temp["model"], options), null, default);

        var recipe = outcome.Manifest.Recipe!;
        Assert.True(recipe.CrossValidatedAccuracy < 0.97, $"cross-validated accuracy {recipe.CrossValidatedAccuracy}");
        Assert.StartsWith("not tried: no time budget was given", recipe.FineTune);
        Assert.Equal("int8", recipe.Precision);
    }

    [Fact]
    public void A_budget_too_small_for_fine_tuning_leaves_it_out_and_says_so()
    {
        using var temp = new TempFolder();
        var data = FaintMarks(temp["data"], 20, seed: 8);
        var options = new TrainingOptions { FineTune = "always", BudgetMinutes = 0.01 };

        var outcome = TrainingRun.Run(new TrainingRequest(data, null, temp["model"], options), null, default);

        var recipe = outcome.Manifest.Recipe!;
        Assert.Equal("not tried: not one epoch fits in the time budget", recipe.FineTune);
        Assert.Contains(recipe.LeftOut, l => l.Contains("fine-tuning"));
        Assert.DoesNotContain(outcome.Manifest.History, e => e.Stage == "fine-tune");
    }

    /// <summary>
    /// Two labels of the same noisy texture; one carries a small, faint mark at a random place. Pooled ImageNet
    /// features
    /// barely see it, so a frozen head cannot separate them well.
    /// </summary>
    private static string FaintMarks(string folder, int perLabel, int seed)
    {
        var random = new Random(seed);
        foreach (var (label, marked) in new[] { ("plain", false), ("marked", true) })
        {
            var dir = Directory.CreateDirectory(Path.Combine(folder, label)).FullName;
            for (var i = 0; i < perLabel; i++)
            {
                using var image = new Image<Rgb24>(96, 96);
                var (mx, my) = (random.Next(10, 80), random.Next(10, 80));
                for (var y = 0; y < 96; y++)
                    for (var x = 0; x < 96; x++)
                    {
                        var v = 120 + random.Next(-40, 40)
                            + (marked && Math.Abs(x - mx) < 4 && Math.Abs(y - my) < 4 ? 12 : 0);
                        image[x, y] = new Rgb24((byte)v, (byte)v, (byte)v);
                    }
                image.SaveAsPng(Path.Combine(dir, $"{label}-{i:000}.png"));
            }
        }
        return folder;
    }
}
