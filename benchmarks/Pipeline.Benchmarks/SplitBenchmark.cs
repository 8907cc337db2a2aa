using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Storage;
using Pipeline.Local;

/// <summary>
/// pipeline-benchmarks split [--dataset folder] [--limit n] [--parallelism n] [--repeat n]: where the local host's
/// split spends its time. Every file is in uploads before the host starts; then the host's sweep splits them while
/// this counts the sorted uploads (the host's own counter, no polling of storage), the blob and queue requests the
/// host sends (Azure.Core's request events, by method and container), and the CPU seconds of the host (this process)
/// and of Azurite. First, the CPU each image costs in the split's checks alone (one thread, no storage).
/// </summary>
public static class SplitBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var folder = Arg(args, "--dataset") ?? Path.Combine(Path.GetDirectoryName(RepoRoot.Find())!, "shared",
            "datasets", "flowers-small");
        var limit = int.Parse(Arg(args, "--limit") ?? "100000");
        var parallelism = Arg(args, "--parallelism");
        var repeat = int.Parse(Arg(args, "--repeat") ?? "1");
        if (!Directory.Exists(folder)) { Console.Error.WriteLine($"No dataset at {folder}"); return 2; }
        var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order().Take(limit).ToList();
        var dataset = Path.GetFileName(folder.TrimEnd('/')).ToLowerInvariant();
        Console.WriteLine($"{files.Count} files of {folder}; load average {LoadAverage()}");

        ProfileChecks(files);
        if (args.Contains("--request-costs")) return await RequestCostsAsync(files);

        var root = RepoRoot.Find();
        var data = Path.Combine(root, ".azurite", $"bench-{Guid.NewGuid():N}");
        await using var azurite = await Azurite.StartOnFreePortsAsync(root, data, Console.WriteLine,
            CancellationToken.None);
        var settings = new Dictionary<string, string?>
        {
            ["Local:Port"] = $"{Azurite.FreePort()}",
            ["Local:RunTrainer"] = "false",
            ["Pipeline:QuietPeriodSeconds"] = "3600",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (parallelism is not null) settings["Local:SplitParallelism"] = parallelism;
        var host = LocalHost.Build([], azurite.ConnectionString, settings);
        var storage = host.Services.GetRequiredService<PipelineStorage>();
        await storage.EnsureCreatedAsync(CancellationToken.None);

        var names = new List<string>();
        var clock = Stopwatch.StartNew();
        for (var r = 0; r < repeat; r++)
            names.AddRange(files.Select(f => $"{dataset}{(r == 0 ? "" : $"{r}")}/" +
                Path.GetRelativePath(folder, f).Replace('\\', '/')));
        await Parallel.ForEachAsync(names.Select((n, i) => (n, files[i % files.Count])),
            new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (upload, ct) =>
                await storage.Uploads.GetBlobClient(upload.n).UploadAsync(
                    new BinaryData(await File.ReadAllBytesAsync(upload.Item2, ct)), ct));
        Console.WriteLine($"Uploaded {names.Count} files in {clock.Elapsed.TotalSeconds:0.0} s; load average " +
            LoadAverage());

        using var requests = new RequestEvents();
        var sorted = new ConcurrentDictionary<string, int>();
        var done = 0;
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            // By name: Telemetry's own fields are not read here, as this runs inside Telemetry's static constructor.
            if (instrument.Meter.Name == "Pipeline" && instrument.Name == "pipeline.uploads.sorted")
                listener.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags) sorted.AddOrUpdate($"{tag.Value}", 1, (_, n) => n + 1);
            Interlocked.Add(ref done, (int)value);
        });
        meters.Start();
        using var azuriteProcess = Process.GetProcessById(azurite.ProcessId!.Value);
        var hostCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var azuriteCpu = azuriteProcess.TotalProcessorTime;
        requests.Reset();
        clock.Restart();
        await LocalHost.StartAsync(host, CancellationToken.None);
        while (Volatile.Read(ref done) < names.Count && clock.Elapsed < TimeSpan.FromMinutes(30))
            await Task.Delay(20);
        var seconds = clock.Elapsed.TotalSeconds;
        var counts = requests.Snapshot();
        var hostUsed = (Process.GetCurrentProcess().TotalProcessorTime - hostCpu).TotalSeconds;
        azuriteProcess.Refresh();
        var azuriteUsed = (azuriteProcess.TotalProcessorTime - azuriteCpu).TotalSeconds;

        var n = Math.Max(1, done);
        Console.WriteLine($"| split, {done} uploads ({string.Join(", ", sorted.Select(s => $"{s.Value} {s.Key}"))})" +
            $" | {seconds:0.0} s: **{done / seconds:0.0} images/s**; CPU {hostUsed * 1000 / n:0.0} ms an image in " +
            $"the host, {azuriteUsed * 1000 / n:0.0} ms in Azurite; load average {LoadAverage()} |");
        Console.WriteLine($"| requests an image | {counts.Values.Sum() / (double)n:0.00}: " +
            string.Join(", ", counts.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value / (double)n:0.00}"))
            + " |");

        await host.StopAsync();
        await host.DisposeAsync();
        await azurite.DisposeAsync();
        try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        return 0;
    }

    /// <summary>Azurite's CPU for each kind of request the split sends, 8 at a time, on a fresh Azurite.</summary>
    private static async Task<int> RequestCostsAsync(IReadOnlyList<string> files)
    {
        var root = RepoRoot.Find();
        var data = Path.Combine(root, ".azurite", $"bench-{Guid.NewGuid():N}");
        await using var azurite = await Azurite.StartOnFreePortsAsync(root, data, Console.WriteLine,
            CancellationToken.None);
        using var node = Process.GetProcessById(azurite.ProcessId!.Value);
        var (blobs, queues) = StorageClients.FromConnectionString(azurite.ConnectionString);
        var storage = new PipelineStorage(blobs, queues);
        await storage.EnsureCreatedAsync(CancellationToken.None);
        var contents = files.Take(1000).Select(File.ReadAllBytes).ToList();
        var activity = BinaryData.FromObjectAsJson(new DatasetActivity
        {
            Labels = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 },
        }, Json.Options);
        var kinds = new (string Name, Func<int, Task> Send)[]
        {
            ("PUT uploads (image)", i => storage.Uploads.GetBlobClient($"d/l/{i}.jpg").UploadAsync(
                new BinaryData(contents[i]))),
            ("GET uploads (range of the image)", i => storage.Uploads.GetBlobClient($"d/l/{i}.jpg")
                .DownloadContentAsync(new Azure.Storage.Blobs.Models.BlobDownloadOptions
                {
                    Range = new Azure.HttpRange(0, 50 * 1024 * 1024),
                })),
            ("PUT train, if none match", i => storage.Train.GetBlobClient($"d/l/{i:x32}.jpg").UploadAsync(
                new BinaryData(contents[i]), new Azure.Storage.Blobs.Models.BlobUploadOptions
                {
                    Conditions = new() { IfNoneMatch = Azure.ETag.All },
                    Metadata = new Dictionary<string, string> { ["source"] = "x", ["sha256"] = "y" },
                })),
            ("DELETE rejected if exists (absent)", i => storage.Rejected.GetBlobClient($"d/d/l/{i}.jpg")
                .DeleteIfExistsAsync()),
            ("PUT models activity.json", _ => storage.Models.GetBlobClient("d/activity.json").UploadAsync(activity,
                overwrite: true)),
            ("GET models activity.json", _ => storage.Models.GetBlobClient("d/activity.json").DownloadContentAsync()),
            ("list rejected d/ (empty)", async _ =>
            {
                await foreach (var blob in storage.Rejected.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None,
                    Azure.Storage.Blobs.Models.BlobStates.None, "d/", default)) { }
            }),
        };
        Console.WriteLine($"| request | Azurite CPU ms each ({contents.Count} requests, 8 at a time) |");
        foreach (var (name, send) in kinds)
        {
            node.Refresh();
            var before = node.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, contents.Count),
                new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) => await send(i));
            node.Refresh();
            var each = (node.TotalProcessorTime - before).TotalMilliseconds / contents.Count;
            Console.WriteLine($"| {name} | {each:0.00}" +
                $" ({contents.Count / clock.Elapsed.TotalSeconds:0}/s) |");
        }
        await azurite.DisposeAsync();
        try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        return 0;
    }

    /// <summary>The CPU each image costs in the split's checks, on one thread: identify the header, check the file
    /// is complete, decode every pixel, hash.</summary>
    private static void ProfileChecks(IReadOnlyList<string> files)
    {
        var contents = files.Select(File.ReadAllBytes).ToList();
        var limits = ImageLimits.Default;
        var stages = new[] { "identify", "complete", "decode", "sha256" };
        var cpu = new double[stages.Length];
        foreach (var content in contents.Take(20)) Check(content); // warm up
        Array.Clear(cpu);
        foreach (var content in contents) Check(content);
        Console.WriteLine($"| the split's checks, one thread, {contents.Count} images, " +
            $"{contents.Average(c => c.Length) / 1024:0} KB average | " +
            string.Join(", ", stages.Select((s, i) => $"{s} {cpu[i] * 1000 / contents.Count:0.00} ms")) +
            " CPU an image |");

        void Check(byte[] content)
        {
            var start = ThreadCpu();
            try
            {
                var header = ImageFile.Identify(content, limits);
                var identified = ThreadCpu();
                ImageCompleteness.Check(content, header.Format);
                var checkedAt = ThreadCpu();
                using (ImageFile.Decode(content, limits)) { }
                var decoded = ThreadCpu();
                SHA256.HashData(content);
                var hashed = ThreadCpu();
                cpu[0] += identified - start;
                cpu[1] += checkedAt - identified;
                // Decode identifies and checks again: its own share is what it adds to those.
                cpu[2] += decoded - checkedAt - (checkedAt - start);
                cpu[3] += hashed - decoded;
            }
            catch (ImageRejectedException) { }
        }
    }

    private static double ThreadCpu()
    {
        // CLOCK_THREAD_CPUTIME_ID: this thread's CPU time, whatever else the machine runs.
        ClockGetTime(3, out var time);
        return time.Seconds + time.Nanoseconds / 1e9;
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private static string? Arg(string[] args, string name) =>
        args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

    /// <summary>Counts the requests Azure's clients in this process send (Azure.Core's "Request" event), by method and
    /// container or queue.</summary>
    private sealed class RequestEvents : EventListener
    {
        private readonly ConcurrentDictionary<string, int> counts = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Azure-Core") EnableEvents(source, EventLevel.Informational);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName != "Request" || e.PayloadNames is not { } names || e.Payload is not { } payload) return;
            var method = payload[names.IndexOf("method")]?.ToString();
            var uri = new Uri(payload[names.IndexOf("uri")]?.ToString() ?? "http://x/");
            var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var target = segments.Length > 1 ? segments[1] : "account";
            var query = uri.Query.Contains("comp=list") ? " list" : uri.Query.Contains("comp=") ? " " +
                uri.Query.Split("comp=")[1].Split('&')[0] : "";
            counts.AddOrUpdate($"{method} {target}{query}", 1, (_, n) => n + 1);
        }

        public void Reset() => counts.Clear();

        public IReadOnlyDictionary<string, int> Snapshot() => new Dictionary<string, int>(counts);
    }
}
