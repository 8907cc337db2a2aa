using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Storage;
using Pipeline.Local;
using Pipeline.Trainer.Job;
using Pipeline.Trainer.Training;
using Xunit;

namespace Pipeline.Trainer.Tests;

/// <summary>
/// A job reads its dataset's blobs straight into the image cache (on a real Azurite), instead of copying them to disk
/// first: the model is byte for byte the one trained from the same files in folders, and promotion scores the blobs.
/// </summary>
public class BlobImageSourceTests
{
    private const string Dataset = "shapes";

    [Fact]
    public async Task A_job_trained_from_its_blobs_gets_the_model_trained_from_the_same_files_on_disk()
    {
        using var temp = new TempFolder();
        await using var azurite = await Azurite.StartOnFreePortsAsync(RepoRoot.Find(), temp["azurite"], _ => { },
            CancellationToken.None);
        var storage = await StorageAsync(azurite);
        // Named as the split names them (content hash), on disk and in the split's containers alike.
        foreach (var (split, perLabel, seed) in new[] { (Split.Train, 10, 1), (Split.Test, 6, 2) })
        {
            var generated = SyntheticImages.WriteDataset(temp[$"generated/{split}"], perLabel, seed);
            foreach (var file in Directory.GetFiles(generated, "*.jpg", SearchOption.AllDirectories))
            {
                var label = Path.GetFileName(Path.GetDirectoryName(file)!);
                var bytes = await File.ReadAllBytesAsync(file);
                var name = $"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..32]}.jpg";
                var copy = Directory.CreateDirectory(temp[$"disk/{split.ToString().ToLowerInvariant()}/{label}"]);
                await File.WriteAllBytesAsync(Path.Combine(copy.FullName, name), bytes);
                await storage.SplitContainer(split).UploadBlobAsync($"{Dataset}/{label}/{name}", new BinaryData(bytes));
            }
        }
        var images = await new DatasetImageStore(storage).ListAsync(Dataset, default);
        var source = new BlobImageSource(storage, Dataset, images, null);
        var options = TrainingOptions.Fast with { Seed = 3, FineTune = "never" };

        var fromDisk = TrainingRun.Run(new TrainingRequest(temp["disk"], null, temp["disk-model"], options), null,
            default);
        // A memory cap this low sends the decoded blobs to the cache file on disk, as a large dataset's would.
        var fromBlobs = TrainingRun.Run(new TrainingRequest(source.Description, null, temp["blob-model"], options,
            MemoryCapMB: 1, CacheFolder: temp["cache"])
        { Source = source }, null, default);

        Assert.Equal(File.ReadAllBytes(Path.Combine(fromDisk.ModelFolder, ModelFiles.Model)),
            File.ReadAllBytes(Path.Combine(fromBlobs.ModelFolder, ModelFiles.Model)));
        Assert.Equal(fromDisk.Manifest.Metrics.Accuracy, fromBlobs.Manifest.Metrics.Accuracy);
        Assert.Equal(6 * SyntheticImages.Labels.Length, fromBlobs.Manifest.ImageCounts.Values.Sum(c => c["test"]));
        Assert.True(fromBlobs.Manifest.Caches!.DiskMB > 0, "the decoded images went to the cache file");
        Assert.Empty(Directory.EnumerateFiles(temp["cache"], "*", SearchOption.AllDirectories));

        // mistakes.json names test blobs the studio can open.
        var mistakes = JsonSerializer.Deserialize<TestMistakes>(
            File.ReadAllText(Path.Combine(fromBlobs.ModelFolder, ModelFiles.Mistakes)), Json.Options)!;
        Assert.Equal(TestMistakes.BlobImages, mistakes.Images);
        foreach (var mistake in mistakes.Labels.Values.SelectMany(m => m))
            Assert.True((await storage.Test.GetBlobClient(mistake.Image).ExistsAsync()).Value, mistake.Image);

        // Promotion scores the model on the same test blobs and gets what its evaluation measured.
        var model = File.ReadAllBytes(Path.Combine(fromBlobs.ModelFolder, ModelFiles.Model));
        var accuracy = (await Promotion.TestAccuraciesAsync(source, [(fromBlobs.Manifest, model)], default))[0];
        Assert.Equal(fromBlobs.Manifest.Metrics.Accuracy, accuracy!.Value, 1e-9);
    }

    [Fact]
    public async Task A_blob_deleted_after_the_listing_is_skipped_with_its_reason()
    {
        using var temp = new TempFolder();
        await using var azurite = await Azurite.StartOnFreePortsAsync(RepoRoot.Find(), temp["azurite"], _ => { },
            CancellationToken.None);
        var storage = await StorageAsync(azurite);
        using var image = SyntheticImages.Draw(0, new Random(1));
        var png = new MemoryStream();
        await SixLabors.ImageSharp.ImageExtensions.SaveAsPngAsync(image, png);
        await storage.Train.UploadBlobAsync($"{Dataset}/a/kept.png", new BinaryData(png.ToArray()));
        await storage.Train.UploadBlobAsync($"{Dataset}/a/gone.png", new BinaryData(png.ToArray()));
        var source = new BlobImageSource(storage, Dataset, await new DatasetImageStore(storage).ListAsync(Dataset,
            default), null);
        await storage.Train.DeleteBlobAsync($"{Dataset}/a/gone.png");

        var names = source.List([]).Train.Select(f => f.Name).ToList();
        var contents = await source.ReadAsync(names, ImageLimits.Default, default);

        Assert.Equal(["train/shapes/a/gone.png", "train/shapes/a/kept.png"], names);
        Assert.Null(contents[0].Bytes);
        Assert.Contains("deleted", contents[0].Reason);
        Assert.Equal(png.ToArray(), contents[1].Bytes);
        Assert.Null(contents[1].Reason);
    }

    private static async Task<PipelineStorage> StorageAsync(Azurite azurite)
    {
        var storage = new PipelineStorage(new BlobServiceClient(azurite.ConnectionString),
            new QueueServiceClient(azurite.ConnectionString));
        await storage.EnsureCreatedAsync(default);
        return storage;
    }
}
