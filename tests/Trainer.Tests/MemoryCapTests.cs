using Pipeline.Core.Contract;
using Pipeline.Trainer.Training;
using Xunit;

namespace Pipeline.Trainer.Tests;

/// <summary>
/// Caches beyond the memory cap go to temporary files and come back in batches: the same model as in memory, and
/// the files gone after the run, however it ends.
/// </summary>
public class MemoryCapTests
{
    // Fine-tuning with an augmented view: decoded images, plain activations and a view's activations are all cached.
    private static readonly TrainingOptions FineTuned =
        TrainingOptions.Fast with { FineTune = "always", AugmentedViews = 1, FineTuneEpochs = 1 };

    [Fact]
    public void Caches_spilled_to_disk_train_the_same_model_as_caches_in_memory()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 8, seed: 5);
        var notes = new List<string>();

        var inMemory = TrainingRun.Run(new TrainingRequest(data, null, temp["memory"], FineTuned,
            MemoryCapMB: 100_000, CacheFolder: temp["cache"]), null, default);
        // 1 MB holds almost none of them: 24 images' pixels are 3.4 MB, the training images' activations 1.4 MB a
        // view; only the validation images' activations (4 rows) fit.
        var onDisk = TrainingRun.Run(new TrainingRequest(data, null, temp["disk"], FineTuned,
            MemoryCapMB: 1, CacheFolder: temp["cache"]), new Collect(notes), default);

        Assert.Contains(onDisk.Manifest.History, e => e.Stage == "fine-tune");
        Assert.Equal(File.ReadAllBytes(Path.Combine(temp["memory"], ModelFiles.Model)),
            File.ReadAllBytes(Path.Combine(temp["disk"], ModelFiles.Model)));
        Assert.Equal(inMemory.Manifest.Metrics.LogLoss, onDisk.Manifest.Metrics.LogLoss);

        var memoryUse = inMemory.Manifest.Caches!;
        Assert.Equal(0, memoryUse.DiskMB);
        Assert.True(memoryUse.MemoryMB > 5, $"{memoryUse.MemoryMB} MB in memory");
        var diskUse = onDisk.Manifest.Caches!;
        Assert.True(diskUse.MemoryMB <= 1, $"{diskUse.MemoryMB} MB in memory"); // the few validation rows fit
        Assert.True(diskUse.DiskMB > 5, $"{diskUse.DiskMB} MB on disk");
        Assert.Equal(diskUse, ModelFiles.ReadManifest(
            File.ReadAllText(Path.Combine(temp["disk"], ModelFiles.Manifest))).Caches);
        Assert.Contains(notes, n => n.StartsWith("caches: 0 MB in memory") && n.Contains("MB on disk"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp["cache"]));
    }

    [Fact]
    public void A_cancelled_run_leaves_no_cache_files()
    {
        using var temp = new TempFolder();
        var data = SyntheticImages.WriteDataset(temp["data"], 8, seed: 3);
        using var stop = new CancellationTokenSource();
        var spilled = false;
        // Cancelled once the head is fitted: the images and the plain activations are on disk by then.
        var progress = new Collect([], p =>
        {
            if (p.Stage != "head") return;
            spilled = Directory.EnumerateFiles(temp["cache"], "*", SearchOption.AllDirectories).Count() >= 2;
            stop.Cancel();
        });

        Assert.ThrowsAny<OperationCanceledException>(() => TrainingRun.Run(new TrainingRequest(data, null,
            temp["model"], FineTuned, MemoryCapMB: 0, CacheFolder: temp["cache"]), progress, stop.Token));

        Assert.True(spilled, "the caches were not on disk when the run was cancelled");
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp["cache"]));
    }

    [Fact]
    public void Cache_files_read_back_what_was_written_and_go_with_their_space()
    {
        using var temp = new TempFolder();
        var space = new CacheSpace(0, temp.Path);
        Assert.False(space.TryHold(1));
        var file = space.CreateFile("rows");
        var bytes = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        const int at = 1 << 20;
        file.Write(at, bytes);
        var back = new byte[300];
        file.Read(at + 2000, back);

        Assert.Equal(bytes[2000..2300], back);
        Assert.Equal(at + 5000, file.Length);
        Assert.Equal(new CacheUse(0, 0, 1.0), space.Use());
        Assert.Throws<EndOfStreamException>(() => file.Read(at + 4500, new byte[1000]));
        space.Dispose();
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }

    /// <summary>Progress reported at once, on the training thread (Progress&lt;T&gt; would post it later).</summary>
    private sealed class Collect(List<string> notes, Action<TrainingProgress>? also = null)
        : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Message is { } message) notes.Add($"{value.Stage}: {message}");
            also?.Invoke(value);
        }
    }
}
