using System.CommandLine;
using System.Diagnostics;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Serving;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;
using Pipeline.Local;

namespace Pipeline.FashionMnist.Benchmarks;

/// <summary>
/// <c>costs --sizes 1000,20000</c>: what one settle check, one dataset status (GET /api/datasets/{d}), the list of
/// datasets (GET /api/datasets) and one sweep of the uploads cost at each size: blob and queue requests (counted by
/// a policy on the clients) and time. Per size, a fresh Azurite and the pipeline's services in this process, as
/// docs/benchmarks.md "Many images" describes them: the images (Fashion-MNIST PNGs) are uploaded, split by the local
/// host's upload sweep, and the settle check the split left on the queue is run once the quiet period has passed.
/// </summary>
public static class CostsCommand
{
    private const string Dataset = "fashion";

    public sealed record Cost(string What, int BlobRequests, int QueueRequests, double Milliseconds, string? Note);

    public sealed record SizeCosts(int Images, double UploadSeconds, double SplitSeconds, double SplitImagesPerSecond,
        int Remembered, int SettleMessages, IReadOnlyList<Cost> Costs);

    public static Command Create()
    {
        var sizes = Arguments.List("--sizes", "Images per dataset, one fresh store each", [1000, 20000], int.Parse);
        var seed = Arguments.Seed();
        var source = Arguments.Source();
        var calls = new Option<int>("--calls")
        {
            Description = "Status calls per figure (the median is kept)", DefaultValueFactory = _ => 3,
        };
        var results = Arguments.Results();
        var command = new Command("costs", "Blob requests and time of one settle check, status and sweep per size")
        {
            sizes, seed, source, calls, results,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetRequiredValue(sizes), parse.GetRequiredValue(seed),
            parse.GetRequiredValue(source), parse.GetRequiredValue(calls), parse.GetRequiredValue(results), ct));
        return command;
    }

    private static async Task<int> RunAsync(IReadOnlyList<int> sizes, int seed, string source, int calls,
        string results, CancellationToken ct)
    {
        if (FashionMnistFiles.Missing(source) is { } reason) return Arguments.Skip(reason);
        var started = Arguments.Machine();
        var images = FashionMnistFiles.Read(source, "train");
        var all = new List<SizeCosts>();
        foreach (var size in sizes)
        {
            all.Add(await MeasureAsync(images, images.Subset(size, seed), calls, ct));
            Console.Error.WriteLine($"{size} images measured; load average {Arguments.Load()}");
        }
        var file = Arguments.WriteResult(results, "fashion-costs", new
        {
            benchmark = "fashion-mnist costs", started, finished = Arguments.Machine(), seed, sizes = all,
        });
        Console.WriteLine($"Fashion-MNIST: settle, status and sweep costs; {Arguments.Now()}, load average " +
            $"{Arguments.Load()}");
        Console.WriteLine($"\n| what | {string.Join(" | ", all.Select(s => $"{s.Images} images"))} |");
        Console.WriteLine($"|---|{string.Concat(all.Select(_ => "---|"))}");
        Console.WriteLine($"| split by the sweep | {string.Join(" | ", all.Select(s =>
            $"{s.SplitSeconds:0.0} s, {s.SplitImagesPerSecond:0.0} images/s"))} |");
        Console.WriteLine($"| settle messages the split queued | " +
            $"{string.Join(" | ", all.Select(s => s.SettleMessages))} |");
        Console.WriteLine($"| uploads the sweep remembers after its passes | " +
            $"{string.Join(" | ", all.Select(s => s.Remembered))} |");
        foreach (var what in all[0].Costs.Select(c => c.What).Distinct())
            Console.WriteLine($"| {what} | {string.Join(" | ", all.Select(s => s.Costs.FirstOrDefault(c =>
                c.What == what) is { } c ? $"{c.BlobRequests} blob + {c.QueueRequests} queue requests, " +
                $"{c.Milliseconds:0} ms{(c.Note is null ? "" : $" ({c.Note})")}" : ""))} |");
        Console.WriteLine($"\nResult: {file}");
        return 0;
    }

    private static async Task<SizeCosts> MeasureAsync(FashionMnistFiles images, IReadOnlyList<int> chosen, int calls,
        CancellationToken ct)
    {
        const int quiet = 2;
        var root = RepoRoot.Find();
        var data = Path.Combine(root, ".azurite", $"fashion-costs-{Guid.NewGuid():N}");
        await using var azurite = await Azurite.StartOnFreePortsAsync(root, data, Console.Error.WriteLine, ct);
        var (blobCounter, queueCounter) = (new RequestCounter(), new RequestCounter());
        var blobOptions = new BlobClientOptions();
        blobOptions.AddPolicy(blobCounter, HttpPipelinePosition.PerCall);
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        queueOptions.AddPolicy(queueCounter, HttpPipelinePosition.PerCall);
        var storage = new PipelineStorage(new BlobServiceClient(azurite.ConnectionString, blobOptions),
            new QueueServiceClient(azurite.ConnectionString, queueOptions));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageNames.Connection] = azurite.ConnectionString,
            ["Pipeline:QuietPeriodSeconds"] = $"{quiet}",
            ["Pipeline:FastTraining"] = "true",
        }).Build();
        // Every service on the counting clients: the last registration of PipelineStorage wins.
        await using var services = new ServiceCollection().AddLogging().AddPipeline(configuration)
            .AddSingleton(storage).AddSingleton<IConfiguration>(configuration).BuildServiceProvider();
        await storage.EnsureCreatedAsync(ct);

        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(chosen, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct },
            async (index, token) => await storage.Uploads
                .GetBlobClient($"{Dataset}/{FashionMnistFiles.Classes[images.Labels[index]]}/train-{index:00000}.png")
                .UploadAsync(new BinaryData(images.Png(index)), token));
        var uploadSeconds = clock.Elapsed.TotalSeconds;

        var sweep = ActivatorUtilities.CreateInstance<UploadSweep>(services);
        clock.Restart();
        await sweep.SweepAsync(ct);
        var splitSeconds = clock.Elapsed.TotalSeconds;
        var costs = new List<Cost>();

        async Task<T> CountAsync<T>(string what, Func<Task<T>> action, Func<T, string?>? note = null)
        {
            blobCounter.Reset();
            queueCounter.Reset();
            var one = Stopwatch.StartNew();
            var result = await action();
            costs.Add(new Cost(what, blobCounter.Count, queueCounter.Count, Math.Round(one.Elapsed.TotalMilliseconds,
                1), note?.Invoke(result)));
            return result;
        }

        await CountAsync("one sweep page, nothing new", () => sweep.SweepPageAsync(ct), r => $"{r.Split} split");
        await CountAsync("one whole sweep pass, nothing new", async () => { await sweep.SweepAsync(ct); return 0; });

        var api = services.GetRequiredService<DatasetApi>();
        var reader = services.GetRequiredService<DatasetStatusReader>();
        for (var i = 0; i < calls; i++)
            await CountAsync("GET /api/datasets/{d} (DatasetApi, in process)", async () =>
                (await api.GetAsync(Dataset, ct)).Value, s => $"{s?.TrainImages + s?.TestImages} images");
        for (var i = 0; i < calls; i++)
            await CountAsync("GET /api/datasets (in process)", () => reader.ListAsync(ct));

        // The settle checks the split queued, run as the queue trigger runs them once they come due.
        var settle = storage.SettleQueue;
        var messages = (await settle.GetPropertiesAsync(ct)).Value.ApproximateMessagesCount;
        var dispatch = services.GetRequiredService<TrainingDispatch>();
        var deadline = DateTime.UtcNow.AddSeconds(quiet + 120);
        var dispatched = false;
        while (!dispatched && DateTime.UtcNow < deadline)
        {
            foreach (var message in (await settle.ReceiveMessagesAsync(16, TimeSpan.FromSeconds(60), ct)).Value)
            {
                var outcome = await CountAsync("one settle check", () => dispatch.SettleAsync(message.Body.ToString(),
                    ct), o => o.Result.ToString());
                await settle.DeleteMessageAsync(message.MessageId, message.PopReceipt, ct);
                if (outcome.Result == DispatchResult.NotSettled)
                    costs[^1] = costs[^1] with { What = "one settle check, not settled (sent again or a stray)" };
                else dispatched = true;
            }
            if (!dispatched) await Task.Delay(500, ct);
        }
        await azurite.DisposeAsync();
        try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        var remembered = sweep.Remembered;

        // Repeated figures: the median call (of the settle checks that did not dispatch too).
        var kept = costs.GroupBy(c => c.What).Select(g => g.OrderBy(c => c.Milliseconds).ElementAt(g.Count() / 2))
            .ToList();
        return new SizeCosts(chosen.Count, Math.Round(uploadSeconds, 1), Math.Round(splitSeconds, 1),
            Math.Round(chosen.Count / splitSeconds, 1), remembered, messages, kept);
    }

    /// <summary>Counts the requests a client sends (each retry too).</summary>
    private sealed class RequestCounter : HttpPipelineSynchronousPolicy
    {
        private int count;
        public int Count => count;
        public void Reset() => Interlocked.Exchange(ref count, 0);
        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref count);
    }
}
