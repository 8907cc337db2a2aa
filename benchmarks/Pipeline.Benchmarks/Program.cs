using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;
using Pipeline.Local;

// pipeline-benchmarks datasets ...: GET /api/datasets over many datasets (DatasetListBenchmark.cs).
if (args.FirstOrDefault() == "datasets") return await DatasetListBenchmark.RunAsync(args);
// pipeline-benchmarks split ...: where the split's time goes (SplitBenchmark.cs).
if (args.FirstOrDefault() == "split") return await SplitBenchmark.RunAsync(args);

// pipeline-benchmarks [--dataset <folder with train/ and val/>] [--quiet <s>] [--fast] [--requests <n>] [--split-only]
//   [--upload-first]
// Runs the local host on a fresh Azurite on free ports, uploads the dataset as a user would, and measures
// upload-to-split latency and split throughput, last upload to promoted model, and scoring latency at 1 and 8 clients.
var folder = Arg("--dataset") ?? Path.Combine(Path.GetDirectoryName(RepoRoot.Find())!, "shared", "datasets",
    "hymenoptera");
var quiet = int.Parse(Arg("--quiet") ?? "30");
var fast = args.Contains("--fast");
var requests = int.Parse(Arg("--requests") ?? "200");
if (!Directory.Exists(folder)) { Console.Error.WriteLine($"No dataset at {folder}"); return 2; }
var dataset = Path.GetFileName(folder.TrimEnd('/')).ToLowerInvariant();

var root = RepoRoot.Find();
var data = Path.Combine(root, ".azurite", $"bench-{Guid.NewGuid():N}");
await using var azurite = await Azurite.StartOnFreePortsAsync(root, data, Console.WriteLine, CancellationToken.None);
var port = Azurite.FreePort();
var host = LocalHost.Build([], azurite.ConnectionString, new Dictionary<string, string?>
{
    ["Local:Port"] = $"{port}",
    ["Pipeline:QuietPeriodSeconds"] = $"{quiet}",
    ["Pipeline:FastTraining"] = fast ? "true" : "false",
    ["Pipeline:ModelRefreshSeconds"] = "5",
    ["Logging:LogLevel:Default"] = "Warning",
});
var storage = host.Services.GetRequiredService<PipelineStorage>();
// --upload-first: every file is in uploads before the host starts, so the split alone is timed (from the start).
var uploadFirst = args.Contains("--upload-first");
if (uploadFirst) await storage.EnsureCreatedAsync(CancellationToken.None);
else await LocalHost.StartAsync(host, CancellationToken.None);
using var http = new HttpClient
{
    BaseAddress = new Uri($"http://127.0.0.1:{port}/api/"),
    Timeout = TimeSpan.FromMinutes(5)
};

// 1. Upload every file (8 at a time), remembering when each upload finished and its content hash.
var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order().ToList();
var uploadedAt = new ConcurrentDictionary<string, long>();
var clock = Stopwatch.StartNew();
await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (file, ct) =>
{
    var bytes = await File.ReadAllBytesAsync(file, ct);
    await storage.Uploads.GetBlobClient($"{dataset}/{Path.GetRelativePath(folder, file).Replace('\\', '/')}")
        .UploadAsync(new BinaryData(bytes), ct);
    uploadedAt[Convert.ToHexStringLower(SHA256.HashData(bytes))] = clock.ElapsedMilliseconds;
});
var lastUpload = clock.ElapsedMilliseconds;
Console.WriteLine($"Uploaded {files.Count} files in {lastUpload / 1000.0:0.0} s");
if (uploadFirst)
{
    await LocalHost.StartAsync(host, CancellationToken.None);
    clock.Restart();
    foreach (var hash in uploadedAt.Keys) uploadedAt[hash] = 0;
    lastUpload = 0;
}

// 2. Watch train/ and test/ (and rejected/) until every upload is accounted for; a split blob's first sighting is its
// split time.
var splitAt = new Dictionary<string, long>();
var rejected = 0;
while (splitAt.Count + rejected < uploadedAt.Count && clock.Elapsed < TimeSpan.FromMinutes(20))
{
    foreach (var container in new[] { storage.Train, storage.Test })
        await foreach (var blob in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, $"{dataset}/",
            default))
            splitAt.TryAdd(blob.Metadata["sha256"], clock.ElapsedMilliseconds);
    rejected = 0;
    await foreach (var _ in storage.Rejected.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{dataset}/",
        default)) rejected++;
    await Task.Delay(100);
}
var latencies = splitAt.Where(s => uploadedAt.ContainsKey(s.Key)).Select(s => (double)(s.Value - uploadedAt[s.Key]))
    .Order().ToList();
var splitSeconds = splitAt.Values.Max() / 1000.0;
Console.WriteLine($"| upload to split latency | p50 {Percentile(latencies, 50) / 1000:0.00} s, "
    + $"p99 {Percentile(latencies, 99) / 1000:0.00} s, max {latencies.Max() / 1000:0.00} s |");
Console.WriteLine($"| split throughput | {splitAt.Count} images ({rejected} rejected) split by {splitSeconds:0.0} s "
    + $"after the first upload: {splitAt.Count / splitSeconds:0.0} images/s |");

if (args.Contains("--split-only"))
{
    await host.StopAsync();
    await azurite.DisposeAsync();
    try { Directory.Delete(data, recursive: true); } catch (IOException) { }
    return 0;
}

// 3. Last upload to promoted model: the quiet period, then the trainer's job.
var versions = host.Services.GetRequiredService<ModelStore>();
var jobs = host.Services.GetRequiredService<TrainingJobStore>();
while ((await versions.ReadLatestAsync(dataset, default)).Latest is null
    && clock.Elapsed < TimeSpan.FromMinutes(90)) await Task.Delay(1000);
var promotedAt = clock.ElapsedMilliseconds;
var job = await jobs.ReadAsync(dataset, default);
var latest = (await versions.ReadLatestAsync(dataset, default)).Latest!;
Console.WriteLine($"| last upload to promoted model | {(promotedAt - lastUpload) / 1000.0:0.0} s (quiet "
    + $"period {quiet} s, {(fast ? "fast" : "default")} options; job "
    + $"ran {(job!.FinishedAt - job.StartedAt)?.TotalSeconds:0.0} s; test accuracy {latest.TestAccuracy:0.###}) |");

// 4. Scoring over HTTP: val images round robin, after one warm-up request per image size class.
var images = Directory.GetFiles(Path.Combine(folder, Directory.Exists(Path.Combine(folder, "val")) ? "val" : "test"),
    "*", SearchOption.AllDirectories)
    .Select(File.ReadAllBytes).ToList();
await ScoreAsync(images[0]);
foreach (var clients in new[] { 1, 8 })
{
    var times = new ConcurrentBag<double>();
    var next = -1;
    var wall = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < requests)
        {
            var one = Stopwatch.StartNew();
            await ScoreAsync(images[i % images.Count]);
            times.Add(one.Elapsed.TotalMilliseconds);
        }
    })));
    var sorted = times.Order().ToList();
    Console.WriteLine($"| scoring, {clients} client(s) | p50 {Percentile(sorted, 50):0.0} ms, "
        + $"p99 {Percentile(sorted, 99):0.0} ms, {requests / wall.Elapsed.TotalSeconds:0.0} images/s "
        + $"({requests} requests) |");
}

// 5. Upload-to-split latency on an idle pipeline: one image at a time, each waited for.
var idle = new List<double>();
foreach (var file in files.Take(20))
{
    var bytes = await File.ReadAllBytesAsync(file);
    var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
    var label = Path.GetFileName(Path.GetDirectoryName(file))!;
    var one = Stopwatch.StartNew();
    await storage.Uploads.GetBlobClient($"idle/{label}/{Path.GetFileName(file)}").UploadAsync(new BinaryData(bytes));
    var uploaded = one.Elapsed.TotalMilliseconds;
    var found = false;
    while (!found && one.Elapsed < TimeSpan.FromMinutes(2))
    {
        foreach (var container in new[] { storage.Train, storage.Test })
            await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None,
                $"idle/{label}/{hash[..32]}", default)) found = true;
        if (!found) await Task.Delay(50);
    }
    idle.Add(one.Elapsed.TotalMilliseconds - uploaded);
}
idle.Sort();
Console.WriteLine($"| upload to split latency, idle (one at a time) | p50 {Percentile(idle, 50) / 1000:0.00} s, "
    + $"max {idle.Max() / 1000:0.00} s ({idle.Count} images) |");

await host.StopAsync();
await azurite.DisposeAsync();
try { Directory.Delete(data, recursive: true); } catch (IOException) { }
return 0;

async Task ScoreAsync(byte[] image)
{
    using var content = new ByteArrayContent(image)
    { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } };
    using var response = await http.PostAsync($"score/{dataset}", content);
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException(await response.Content.ReadAsStringAsync());
    await response.Content.ReadFromJsonAsync<ScoreResponse>(Json.Options);
}

static double Percentile(IReadOnlyList<double> sorted, double p) =>
    sorted.Count == 0 ? double.NaN
        : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
