using System.Text;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Training;
using Xunit;

namespace Pipeline.Tests;

[Collection(PipelineCollection.Name)]
public sealed class SplitTests(PipelineFixture pipeline)
{
    [Fact]
    public async Task Bad_uploads_are_rejected_with_their_reasons_and_nothing_else_is_disturbed()
    {
        const string dataset = "rejects";
        var good = GeneratedImages.Dataset(labels: 2, perLabel: 3, seed: 11);
        var jpeg = good[0].Content;
        var bad = new Dictionary<string, (byte[] Content, string Reason)>
        {
            [$"{dataset}/circles/notes.jpg"] = (Encoding.UTF8.GetBytes("these are my notes, not a photo"),
                "Not an image"),
            [$"{dataset}/circles/truncated.jpg"] = (jpeg[..(jpeg.Length / 2)], "truncated"),
            [$"{dataset}/circles/empty.jpg"] = ([], "empty"),
            [$"{dataset}/circles/huge.png"] = (GeneratedImages.PngClaiming(9000, 9000), "megapixels"),
            [$"{dataset}/bad*label/a.jpg"] = (jpeg, "only letters"),
            [$"{dataset}/loose.jpg"] = (jpeg, "not in a label folder"),
            [$"{dataset}/a/b/c/deep.jpg"] = (jpeg, "too deep"),
            [$"{dataset}/train/loose.jpg"] = (jpeg, "holds label folders"),
            [$"{dataset}/train.json"] = (Encoding.UTF8.GetBytes("{ not json"), "not valid JSON"),
        };
        foreach (var (label, file, content) in good) await pipeline.UploadAsync($"{dataset}/{label}/{file}", content);
        foreach (var (name, (content, _)) in bad) await pipeline.UploadAsync(name, content);
        await pipeline.UploadAsync("Bad_Dataset/circles/a.jpg", jpeg);

        var status = await pipeline.WaitForAsync(dataset, s => s.Rejected.Count == bad.Count
            && s.TrainImages + s.TestImages == good.Count,
            "every upload to be split or rejected", 120);

        foreach (var (name, (_, reason)) in bad)
        {
            var record = Assert.Single(status.Rejected, r => r.Path == name);
            Assert.Contains(reason, record.Reason, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Equal(["circles", "squares"], status.Labels.Keys.Order());
        Assert.Equal(good.Count, status.Labels.Values.Sum(c => c.Train + c.Test));

        // The upload with a bad dataset name is recorded apart, under no dataset.
        var invalid = pipeline.Storage.Rejected.GetBlobClient(BlobPaths.Rejection(null, "Bad_Dataset/circles/a.jpg"));
        await WaitAsync(async () => (await invalid.ExistsAsync()).Value, "the bad dataset name's rejection");
        Assert.Contains("lower-case",
            (await invalid.DownloadContentAsync())
                .Value.Content.ToObjectFromJson<RejectedUpload>(Json.Options)!.Reason);

        // Everything the user uploaded is still there, byte for byte.
        foreach (var (name, (content, _)) in bad)
            Assert.Equal(content, (await pipeline.Upload(name).DownloadContentAsync()).Value.Content.ToArray());
        foreach (var (label, file, content) in good)
            Assert.Equal(content,
                (await pipeline.Upload($"{dataset}/{label}/{file}").DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task A_duplicate_upload_and_a_trigger_delivered_twice_change_no_counts_and_queue_no_second_job()
    {
        const string dataset = "dupes";
        var images = GeneratedImages.Dataset(labels: 2, perLabel: 6, seed: 21);
        foreach (var (label, file, content) in images) await pipeline.UploadAsync($"{dataset}/{label}/{file}", content);
        var before = await pipeline.WaitForAsync(dataset, s => s.TrainImages + s.TestImages == images.Count
            && s.Training is not null,
            "the split and the job the quiet period dispatches", 120);
        var job = before.Training!.JobId;

        // The same bytes under another name, the same name again, and the split and settle triggers delivered twice.
        var (label0, file0, content0) = images[0];
        await pipeline.UploadAsync($"{dataset}/{label0}/copy-of-{file0}", content0);
        await pipeline.UploadAsync($"{dataset}/{label0}/{file0}", content0);
        var sorter = pipeline.Service<UploadSorter>();
        var again = await sorter.SortAsync(pipeline.Upload($"{dataset}/{label0}/{file0}"), CancellationToken.None);
        Assert.Equal(SortResult.Duplicate, again.Result);
        await Task.Delay(TimeSpan.FromSeconds(PipelineFixture.QuietSeconds + 3));
        var settle = await pipeline.Service<TrainingDispatch>().SettleAsync($$"""{"dataset":"{{dataset}}"}""",
            CancellationToken.None);
        Assert.NotEqual(DispatchResult.Queued, settle.Result);

        var after = await pipeline.StatusAsync(dataset);
        Assert.Equal(before.TrainImages, after!.TrainImages);
        Assert.Equal(before.TestImages, after.TestImages);
        Assert.Equal(job, after.Training!.JobId);
        Assert.Empty(after.Rejected);
        // Only one copy of the image exists in its split.
        var hashes = new List<string>();
        foreach (var container in new[] { pipeline.Storage.Train, pipeline.Storage.Test })
            await foreach (var blob in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, $"{dataset}/",
                default))
                hashes.Add(blob.Metadata["sha256"]);
        Assert.Equal(images.Count, hashes.Distinct().Count());
        Assert.Equal(images.Count, hashes.Count);
    }

    private static async Task WaitAsync(Func<Task<bool>> done, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited {seconds} s for {what}.");
            await Task.Delay(300);
        }
    }
}
