using System.Diagnostics;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Storage;
using Pipeline.Local;

/// <summary>
/// pipeline-benchmarks datasets [--datasets 50] [--images 10000] [--written n] [--parallelism 64] [--calls 5]:
/// GET /api/datasets on the local host over a store of many datasets, written directly as the split leaves them
/// (empty train/test blobs, 80 % train, 4 labels, and each dataset's activity.json with the counts the split keeps),
/// and GET /api/datasets/{d} of one of them. The list reads no image blob, only the counts: <c>--written</c> writes
/// fewer image blobs a dataset than the counts say (Azurite writes a few hundred blobs a second, so 50 x 10,000 would
/// take most of an hour), and the store's size then is what Azurite's listings by folder scan.
/// </summary>
public static class DatasetListBenchmark
{
    private const int Labels = 4;

    public static async Task<int> RunAsync(string[] args)
    {
        var datasets = int.Parse(Arg(args, "--datasets") ?? "50");
        var images = int.Parse(Arg(args, "--images") ?? "10000");
        var calls = int.Parse(Arg(args, "--calls") ?? "5");
        var written = Math.Min(images, int.Parse(Arg(args, "--written") ?? $"{images}"));
        var parallelism = int.Parse(Arg(args, "--parallelism") ?? "64");
        var root = RepoRoot.Find();
        var data = Path.Combine(root, ".azurite", $"bench-{Guid.NewGuid():N}");
        await using var azurite = await Azurite.StartOnFreePortsAsync(root, data, Console.WriteLine,
            CancellationToken.None);
        var port = Azurite.FreePort();
        var host = LocalHost.Build([], azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["Local:Port"] = $"{port}",
            ["Local:RunTrainer"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await LocalHost.StartAsync(host, CancellationToken.None);
        var storage = host.Services.GetRequiredService<PipelineStorage>();

        var clock = Stopwatch.StartNew();
        var tiny = new BinaryData(Array.Empty<byte>());
        await Parallel.ForEachAsync(Enumerable.Range(0, datasets * written),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (n, ct) =>
            {
                var (d, i) = (n / written, n % written);
                var split = i % 5 == 0 ? storage.Test : storage.Train;
                await split.GetBlobClient($"set{d:00}/label{i % Labels}/{n:x32}.jpg").UploadAsync(tiny, ct);
            });
        for (var d = 0; d < datasets; d++)
        {
            var counts = Enumerable.Range(0, Labels).ToDictionary(l => $"label{l}",
                l => Enumerable.Range(0, images).Count(i => i % Labels == l));
            var activity = new DatasetActivity { LastImageAt = DateTimeOffset.UtcNow, Labels = counts };
            await storage.Models.GetBlobClient(BlobPaths.Activity($"set{d:00}"))
                .UploadAsync(BinaryData.FromObjectAsJson(activity, Json.Options));
        }
        Console.WriteLine($"Wrote {datasets} datasets x {written} image blobs (counts of {images} images) in " +
            $"{clock.Elapsed.TotalSeconds:0} s ({datasets * written / clock.Elapsed.TotalSeconds:0} blobs/s); load " +
            $"average {SplitBenchmark.LoadAverage()}");

        using var http = new HttpClient
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/api/"),
            Timeout = TimeSpan.FromMinutes(5)
        };
        await TimeAsync(http, "datasets", calls, $"GET /api/datasets ({datasets} datasets x {images} images)");
        var reader = host.Services.GetRequiredService<DatasetStatusReader>();
        await TimeAsync(async () => await reader.ListAsync(default), calls,
            "the same in process, no HTTP and no console span exporter");
        var store = host.Services.GetRequiredService<DatasetImageStore>();
        await TimeAsync(async () => await store.ListDatasetsAsync(default), calls,
            "of which the dataset names (models and rejected listed by folder)");
        await TimeAsync(http, "datasets/set00", calls, $"GET /api/datasets/set00 ({images} images)");

        // What a listing of one dataset's images costs: the old GET /api/datasets did two per dataset.
        clock.Restart();
        var listed = 0;
        await foreach (var _ in storage.Train.GetBlobsAsync(BlobTraits.None, BlobStates.None, "set00/", default))
            listed++;
        Console.WriteLine($"| listing set00's train images | {listed} blobs in " +
            $"{clock.Elapsed.TotalMilliseconds:0} ms |");

        Console.WriteLine($"Load average {SplitBenchmark.LoadAverage()}");
        await host.StopAsync();
        await azurite.DisposeAsync();
        try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        return 0;
    }

    private static async Task TimeAsync(Func<Task> call, int calls, string what)
    {
        var times = new List<double>();
        for (var i = 0; i <= calls; i++)
        {
            var clock = Stopwatch.StartNew();
            await call();
            if (i > 0) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine($"| {what} | median {times[times.Count / 2]:0} ms, max {times[^1]:0} ms |");
    }

    private static async Task TimeAsync(HttpClient http, string route, int calls, string what)
    {
        var times = new List<double>();
        for (var i = 0; i <= calls; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await http.GetAsync(route);
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException(body);
            if (i > 0) times.Add(clock.Elapsed.TotalMilliseconds); // the first warms the host up
        }
        times.Sort();
        Console.WriteLine($"| {what} | median {times[times.Count / 2]:0} ms, max {times[^1]:0} ms " +
            $"({calls} calls after one warm-up) |");
    }

    private static string? Arg(string[] args, string name) =>
        args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
}
