using System.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Serving;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;
using Pipeline.Local;
using Xunit;

namespace Pipeline.Tests;

/// <summary>
/// The pipeline's services on their own Azurite, with no listener taking the settle queue's messages, so that the
/// messages can be counted on the queue and the checks run one at a time as the queue trigger would run them.
/// </summary>
public sealed class ScaleFixture : IAsyncLifetime
{
    public const int QuietSeconds = 3;
    private string dataFolder = "";
    public Azurite Azurite { get; private set; } = null!;
    public ServiceProvider Services { get; private set; } = null!;
    public PipelineStorage Storage => Services.GetRequiredService<PipelineStorage>();

    public async Task InitializeAsync()
    {
        var root = RepoRoot.Find();
        dataFolder = Path.Combine(root, ".azurite", $"test-{Guid.NewGuid():N}");
        Azurite = await Azurite.StartOnFreePortsAsync(root, dataFolder, Console.WriteLine, CancellationToken.None);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageNames.Connection] = Azurite.ConnectionString,
            ["Pipeline:QuietPeriodSeconds"] = $"{QuietSeconds}",
            ["Pipeline:FastTraining"] = "true",
        }).Build();
        Services = new ServiceCollection().AddLogging().AddPipeline(configuration).BuildServiceProvider();
        await Storage.EnsureCreatedAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Services.DisposeAsync();
        await Azurite.DisposeAsync();
        try { Directory.Delete(dataFolder, recursive: true); } catch (IOException) { }
    }

    /// <summary>Uploads the images and splits them all at once, eight at a time, as the sweep does.</summary>
    public async Task UploadAndSplitAsync(string dataset,
        IEnumerable<(string Label, string File, byte[] Content)> images)
    {
        var names = new List<string>();
        foreach (var (label, file, content) in images)
        {
            var name = $"{dataset}/{label}/{file}";
            await Storage.Uploads.GetBlobClient(name).UploadAsync(new BinaryData(content), overwrite: true);
            names.Add(name);
        }
        var sorter = Services.GetRequiredService<UploadSorter>();
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (name, ct) => await sorter.SortAsync(name, ct));
    }

    /// <summary>The same storage seen through clients that count every blob request they send.</summary>
    public (PipelineStorage Storage, RequestCounter Counter) Counted()
    {
        var counter = new RequestCounter();
        var options = new BlobClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerCall);
        return (new PipelineStorage(new BlobServiceClient(Azurite.ConnectionString, options),
            new QueueServiceClient(Azurite.ConnectionString)), counter);
    }
}

/// <summary>Counts the requests a client sends (each retry too).</summary>
public sealed class RequestCounter : HttpPipelineSynchronousPolicy
{
    private int count;
    public int Count => count;
    public void Reset() => Interlocked.Exchange(ref count, 0);
    public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref count);
}

public sealed class ScaleTests(ScaleFixture scale) : IClassFixture<ScaleFixture>
{
    [Fact]
    public async Task A_burst_of_several_hundred_images_queues_one_job_and_a_handful_of_settle_checks()
    {
        const string dataset = "burst";
        var images = GeneratedImages.Dataset(labels: 3, perLabel: 100, seed: 41);
        await scale.UploadAndSplitAsync(dataset, images);

        // Nothing takes the queue's messages here: every settle check the burst sent is still on it.
        var settle = scale.Storage.SettleQueue;
        var sent = (await settle.GetPropertiesAsync()).Value.ApproximateMessagesCount;
        Assert.InRange(sent, 1, 2);

        // The checks, run as the queue trigger runs them, until the job is queued (and a while after: no second).
        var dispatch = scale.Services.GetRequiredService<TrainingDispatch>();
        var checks = 0;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        var quietAfterJob = DateTime.MaxValue;
        while (DateTime.UtcNow < deadline && DateTime.UtcNow < quietAfterJob)
        {
            foreach (var message in (await settle.ReceiveMessagesAsync(16, TimeSpan.FromSeconds(30))).Value)
            {
                var check = JsonSerializer.Deserialize<SettleCheck>(message.Body.ToString(), Json.Options)!;
                if (check.JobId is null) checks++;
                await dispatch.SettleAsync(message.Body.ToString(), CancellationToken.None);
                await settle.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
            if (quietAfterJob == DateTime.MaxValue
                && (await scale.Storage.TrainingQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount > 0)
                quietAfterJob = DateTime.UtcNow.AddSeconds(ScaleFixture.QuietSeconds * 2);
            await Task.Delay(250);
        }

        Assert.Equal(1, (await scale.Storage.TrainingQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.InRange(checks, 1, 4);
        var job = await scale.Services.GetRequiredService<TrainingJobStore>().ReadAsync(dataset, default);
        Assert.Equal(images.Count, job!.TrainImages + job.TestImages);
        // The counts kept as the split wrote them, recounted by the check, are the dataset's.
        var (activity, _) = await scale.Services.GetRequiredService<DatasetActivityStore>().ReadAsync(dataset, default);
        Assert.Equal(images.Count, activity!.Labels.Values.Sum());
        Assert.Null(activity.CheckDueAt);
    }

    [Fact]
    public async Task An_upload_fixed_after_its_rejection_loses_it_though_clears_are_skipped_for_clean_datasets()
    {
        const string dataset = "fixed";
        var images = GeneratedImages.Dataset(labels: 2, perLabel: 20, seed: 47);
        await scale.UploadAndSplitAsync(dataset, images.Skip(1));
        var activities = scale.Services.GetRequiredService<DatasetActivityStore>();
        Assert.Null((await activities.ReadAsync(dataset, default)).Activity!.LastRejectionAt);

        // Rejected, marked on activity.json, then fixed under the same path while other images split beside it.
        var (label, file, content) = images[0];
        var name = $"{dataset}/{label}/{file}";
        await scale.Storage.Uploads.GetBlobClient(name).UploadAsync(new BinaryData("not a photo"u8.ToArray()),
            overwrite: true);
        var sorter = scale.Services.GetRequiredService<UploadSorter>();
        Assert.Equal(SortResult.Rejected, (await sorter.SortAsync(name, default)).Result);
        var rejections = scale.Services.GetRequiredService<RejectionStore>();
        Assert.Equal(1, await rejections.CountAsync(dataset, default));
        Assert.NotNull((await activities.ReadAsync(dataset, default)).Activity!.LastRejectionAt);
        await scale.UploadAndSplitAsync(dataset, [images[0], .. images.Skip(1).Take(10)]);
        Assert.Equal(0, await rejections.CountAsync(dataset, default));
    }

    [Fact]
    public async Task A_status_call_costs_the_same_blob_operations_at_50_and_at_500_images()
    {
        const string dataset = "growing";
        var images = GeneratedImages.Dataset(labels: 2, perLabel: 250, seed: 43);
        var first = images.Where((_, i) => i % 10 == 0).ToList();
        await scale.UploadAndSplitAsync(dataset, first);
        foreach (var bad in new[] { "notes.jpg", "list.jpg", "more.jpg" })
            await scale.Storage.Uploads.GetBlobClient($"{dataset}/circles/{bad}")
                .UploadAsync(new BinaryData(Encoding.UTF8.GetBytes("not a photo")), overwrite: true);
        var sorter = scale.Services.GetRequiredService<UploadSorter>();
        foreach (var bad in new[] { "notes.jpg", "list.jpg", "more.jpg" })
            await sorter.SortAsync($"{dataset}/circles/{bad}", default);

        var (storage, counter) = scale.Counted();
        var reader = new DatasetStatusReader(new DatasetImageStore(storage), new RejectionStore(storage),
            new TrainingJobStore(storage), new ModelStore(storage, NullLogger<ModelStore>.Instance),
            new DatasetActivityStore(storage));

        async Task<(int Status, int List, DatasetStatus Read, DatasetSummary Summary)> MeasureAsync()
        {
            counter.Reset();
            var read = (await reader.ReadAsync(dataset, default))!;
            var status = counter.Count;
            counter.Reset();
            var summary = (await reader.ListAsync(default)).Single(d => d.Dataset == dataset);
            return (status, counter.Count, read, summary);
        }

        var small = await MeasureAsync();
        await scale.UploadAndSplitAsync(dataset, images.Except(first));
        var large = await MeasureAsync();

        Assert.Equal(first.Count, small.Read.TrainImages + small.Read.TestImages);
        Assert.Equal(images.Count, large.Read.TrainImages + large.Read.TestImages);
        Assert.Equal(images.Count, large.Summary.Images);
        Assert.Equal(2, large.Summary.Labels);
        Assert.Equal(3, large.Summary.Rejected);
        Assert.Equal(3, large.Read.RejectedCount);
        Assert.All(large.Read.Rejected, r => Assert.Contains("image", r.Reason, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(small.Status, large.Status);
        Assert.Equal(small.List, large.List);
        Assert.InRange(large.Status, 1, 20);

        // ?rejected=all: the whole records, downloaded, a page at a time.
        var all = (await scale.Services.GetRequiredService<DatasetApi>().GetAsync(dataset, null, default, "all"))
            .Value!;
        Assert.Equal(["circles/list.jpg", "circles/more.jpg", "circles/notes.jpg"],
            all.Rejected.Select(r => r.Path[(dataset.Length + 1)..]).Order());
        Assert.Null(all.RejectedContinuation);
    }
}
