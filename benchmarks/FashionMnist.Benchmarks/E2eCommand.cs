using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Pipeline.Core.Contract;

namespace Pipeline.FashionMnist.Benchmarks;

/// <summary>
/// <c>e2e --train 20000 --test 2000</c>: the local host in a child process (its own Azurite, its trainer), the
/// images uploaded with <c>pipeline upload</c>, split, trained with the fast setting once the dataset is quiet, and
/// the test split scored over HTTP; each step's time, the split's images/s, each process's peak memory and CPU
/// seconds, and the accuracy.
/// </summary>
public static class E2eCommand
{
    private sealed record Plan(int Train, int Test, int Seed, string Source, string? Data, string Dataset, int Quiet,
        int Parallel, int Clients, int Batch, TimeSpan Timeout, string? HostBuild, string Results);

    public static Command Create()
    {
        var train = Arguments.Count("--train", "Training images (of the 60,000), uploaded to <dataset>/train/", 20000);
        var test = Arguments.Count("--test", "Test images (of the 10,000), uploaded to <dataset>/test/ and scored",
            2000);
        var seed = Arguments.Seed();
        var source = Arguments.Source();
        var data = new Option<string?>("--data")
        {
            Description = "A folder `write` made (train/ and test/; --train and --test are then its own) " +
                "[default: written now to a temporary folder]",
            HelpName = "folder",
        };
        var dataset = new Option<string>("--dataset")
        {
            Description = "The dataset's name in the pipeline", DefaultValueFactory = _ => "fashion",
        };
        var quiet = new Option<int>("--quiet")
        {
            Description = "The host's quiet period (s) before it trains by itself; 0: POST .../train once split",
            DefaultValueFactory = _ => 10,
        };
        var parallel = new Option<int>("--parallel")
        {
            Description = "pipeline upload's --parallel", DefaultValueFactory = _ => 16,
        };
        var clients = new Option<int>("--clients")
        {
            Description = "Scoring requests at once", DefaultValueFactory = _ => 4,
        };
        var batch = new Option<int>("--batch")
        {
            Description = "Images per scoring request (multipart; the host takes at most 32)",
            DefaultValueFactory = _ => 16,
        };
        var timeout = new Option<double>("--timeout-minutes")
        {
            Description = "The most each step (upload, split, training, scoring) may take",
            DefaultValueFactory = _ => 180,
        };
        var build = new Option<string?>("--host-build")
        {
            Description = "The host's build folder [default: local/bin/Release/net10.0]", HelpName = "folder",
        };
        var results = Arguments.Results();
        var command = new Command("e2e", "End to end on the local host: upload, split, train (fast), score over HTTP")
        {
            train, test, seed, source, data, dataset, quiet, parallel, clients, batch, timeout, build, results,
        };
        command.SetAction((parse, ct) => RunAsync(new Plan(parse.GetRequiredValue(train),
            parse.GetRequiredValue(test), parse.GetRequiredValue(seed), parse.GetRequiredValue(source),
            parse.GetValue(data), parse.GetRequiredValue(dataset), parse.GetRequiredValue(quiet),
            parse.GetRequiredValue(parallel), parse.GetRequiredValue(clients), parse.GetRequiredValue(batch),
            TimeSpan.FromMinutes(parse.GetRequiredValue(timeout)), parse.GetValue(build),
            parse.GetRequiredValue(results))));
        return command;
    }

    private static async Task<int> RunAsync(Plan plan)
    {
        if (plan.Data is null && FashionMnistFiles.Missing(plan.Source) is { } reason) return Arguments.Skip(reason);
        var root = Arguments.RepoRoot();
        var cli = Path.Combine(root, "cli", "bin", "Release", "net10.0", "pipeline.dll");
        var trainer = Path.Combine(root, "trainer-container", "bin", "Release", "net10.0", "trainer.dll");
        foreach (var (dll, project) in new[] { (LocalHostChild.Dll(plan.HostBuild), "local"), (cli, "cli"),
            (trainer, "trainer-container") })
            if (!File.Exists(dll))
            {
                Console.Error.WriteLine($"error: no {dll}: build it first (dotnet build {project} -c Release).");
                return 2;
            }

        var started = Arguments.Machine();
        var steps = new Dictionary<string, double>();
        var clock = Stopwatch.StartNew();
        var folder = plan.Data ?? Directory.CreateTempSubdirectory("fashion-e2e-").FullName;
        if (plan.Data is null) WriteCommand.Write(plan.Source, folder, plan.Train, plan.Test, plan.Seed);
        steps["write PNGs"] = Lap(clock);
        var files = Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories);
        // With --data, the folder's own counts.
        var trainCount = files.Count(f =>
            Path.GetRelativePath(folder, f).StartsWith("train", StringComparison.Ordinal));
        plan = plan with { Train = trainCount, Test = files.Length - trainCount };
        // The split keeps one blob per label and content: identical images under one label count once.
        var expected = files.Select(f => (Path.GetFileName(Path.GetDirectoryName(f)),
            Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))))).Distinct().Count();

        using var watch = new ProcessWatch();
        var settings = new Dictionary<string, string>
        {
            ["Local__RunTrainer"] = "true",
            ["Pipeline__FastTraining"] = "true",
            ["Pipeline__QuietPeriodSeconds"] = $"{plan.Quiet}",
        };
        var figures = new Dictionary<string, object?>();
        var ok = false;
        await using (var host = await LocalHostChild.StartAsync(settings, plan.HostBuild, watch,
            TimeSpan.FromMinutes(10)))
        {
            steps["start host"] = Lap(clock);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
            {
                BaseAddress = host.Api, Timeout = TimeSpan.FromMinutes(5),
            };
            ok = await PipelineAsync(plan, host, http, cli, folder, files.Length, expected, watch, steps, figures);
            Lap(clock); // the steps between were timed on their own
        }
        steps["stop host"] = Lap(clock);
        if (plan.Data is null) Directory.Delete(folder, recursive: true);
        var memory = watch.Summary();
        var file = Arguments.WriteResult(plan.Results, "fashion-e2e", new
        {
            benchmark = "fashion-mnist e2e", started, finished = Arguments.Machine(), plan.Train, plan.Test,
            plan.Seed, plan.Quiet, plan.Parallel, plan.Clients, plan.Batch, uploaded = files.Length, expected,
            completed = ok, steps, figures, memory,
        });
        Print(plan, files.Length, steps, figures, memory);
        Console.WriteLine($"\nResult: {file}");
        return ok ? 0 : 1;
    }

    private static async Task<bool> PipelineAsync(Plan plan, LocalHostChild host, HttpClient http, string cli,
        string folder, int uploaded, int expected, ProcessWatch watch, Dictionary<string, double> steps,
        Dictionary<string, object?> figures)
    {
        var clock = Stopwatch.StartNew();
        // The split is watched from the first upload on: GET /api/datasets/{d} every 3 s, as a user would.
        using var splitting = new CancellationTokenSource();
        var uploadEnded = false;
        var split = WatchSplitAsync(http, plan.Dataset, expected, clock, plan.Timeout, () => uploadEnded,
            splitting.Token);
        using (var upload = ChildProcess.Start("dotnet", [cli, "upload", folder, "--dataset", plan.Dataset,
            "--parallel", $"{plan.Parallel}", "--connection-string", host.ConnectionString, "--api",
            host.Api.ToString()], "cli", watch))
        {
            if (!await upload.WaitAsync(plan.Timeout) || upload.ExitCode != 0)
            {
                Console.Error.WriteLine("pipeline upload failed or ran out of time.");
                splitting.Cancel();
                return false;
            }
        }
        var uploadSeconds = clock.Elapsed.TotalSeconds;
        uploadEnded = true;
        steps["upload (pipeline upload)"] = Math.Round(uploadSeconds, 1);
        figures["uploadImagesPerSecond"] = Math.Round(uploaded / uploadSeconds, 1);
        var (accounted, splitSeconds, status) = await split;
        figures["splitImages"] = accounted;
        if (accounted < expected)
        {
            Console.Error.WriteLine($"The split accounted for {accounted} of {expected} images in time.");
            return false;
        }
        steps["split, after the upload ended"] = Math.Round(Math.Max(0, splitSeconds - uploadSeconds), 1);
        figures["splitSecondsFromFirstUpload"] = Math.Round(splitSeconds, 1);
        figures["splitImagesPerSecond"] = Math.Round(accounted / splitSeconds, 1);
        figures["rejected"] = status?["rejectedCount"]?.GetValue<int>();
        var splitEnd = DateTimeOffset.UtcNow;

        if (plan.Quiet <= 0)
            using (var response = await http.PostAsync($"datasets/{plan.Dataset}/train", null))
                if (!response.IsSuccessStatusCode)
                {
                    Console.Error.WriteLine($"POST train answered {(int)response.StatusCode}: " +
                        await response.Content.ReadAsStringAsync());
                    return false;
                }
        var images = (status?["trainImages"]?.GetValue<int>() ?? 0) + (status?["testImages"]?.GetValue<int>() ?? 0);
        var trained = await WaitForModelAsync(http, plan.Dataset, images, plan.Timeout);
        if (trained?["training"] is not JsonObject job || trained["model"] is not JsonObject model
            || !string.Equals(job["state"]?.ToString(), "succeeded", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"No promoted model in time: {trained?["training"]?.ToJsonString()}");
            return false;
        }
        var queued = DateTimeOffset.Parse(job["queuedAt"]!.GetValue<string>());
        var start = DateTimeOffset.Parse(job["startedAt"]!.GetValue<string>());
        var finish = DateTimeOffset.Parse(job["finishedAt"]!.GetValue<string>());
        steps[plan.Quiet > 0 ? $"settle (quiet period {plan.Quiet} s) to job queued" : "POST train to job queued"] =
            Math.Round(Math.Max(0, (queued - splitEnd).TotalSeconds), 1);
        steps["job queued to trainer started"] = Math.Round((start - queued).TotalSeconds, 1);
        steps["training (job started to finished)"] = Math.Round((finish - start).TotalSeconds, 1);
        figures["job"] = job;
        figures["modelTestAccuracy"] = model["testAccuracy"]?.GetValue<double>();
        // The trainer's own stages (model.json's timings): the job's time less these is listing, upload and promotion.
        var manifest = JsonNode.Parse(await http.GetStringAsync(
            $"datasets/{plan.Dataset}/models/latest/{ModelFiles.Manifest}"));
        figures["trainerTimings"] = manifest?["timings"]?.DeepClone();
        Lap(clock);

        var scoring = await ScoreAsync(http, plan, folder);
        steps["score the test split over HTTP"] = Lap(clock);
        foreach (var (key, value) in scoring) figures[key] = value;
        return true;
    }

    private static async Task<(int Accounted, double Seconds, JsonNode? Status)> WatchSplitAsync(HttpClient http,
        string dataset, int expected, Stopwatch clock, TimeSpan timeout, Func<bool> uploadEnded,
        CancellationToken ct)
    {
        var (accounted, seconds) = (0, 0.0);
        JsonNode? status = null;
        while (accounted < expected && clock.Elapsed < timeout + TimeSpan.FromMinutes(5)
            && !ct.IsCancellationRequested)
        {
            // Stuck: every upload is in, and nothing was split for 5 minutes.
            if (uploadEnded() && clock.Elapsed.TotalSeconds - seconds > 300) break;
            await Task.Delay(TimeSpan.FromSeconds(3), CancellationToken.None);
            using var response = await http.GetAsync($"datasets/{dataset}", CancellationToken.None);
            if (!response.IsSuccessStatusCode) continue;
            status = JsonNode.Parse(await response.Content.ReadAsStringAsync(CancellationToken.None));
            var now = (status?["trainImages"]?.GetValue<int>() ?? 0) + (status?["testImages"]?.GetValue<int>() ?? 0)
                + (status?["rejectedCount"]?.GetValue<int>() ?? 0);
            if (now != accounted) seconds = clock.Elapsed.TotalSeconds;
            accounted = now;
        }
        return (accounted, seconds, status);
    }

    /// <summary>The status once a job over all <paramref name="images"/> has finished (one the quiet period started
    /// on part of them, during a pause in the upload, is followed by another), or has failed.</summary>
    private static async Task<JsonNode?> WaitForModelAsync(HttpClient http, string dataset, int images,
        TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            using var response = await http.GetAsync($"datasets/{dataset}");
            if (!response.IsSuccessStatusCode) continue;
            var status = JsonNode.Parse(await response.Content.ReadAsStringAsync());
            var state = status?["training"]?["state"]?.ToString();
            if (string.Equals(state, "failed", StringComparison.OrdinalIgnoreCase)) return status;
            var job = status?["training"];
            var jobImages = (job?["trainImages"]?.GetValue<int>() ?? 0) + (job?["testImages"]?.GetValue<int>() ?? 0);
            if (status?["model"] is JsonObject && job?["finishedAt"] is not null && jobImages >= images
                && job["next"] is null) return status;
        }
        return null;
    }

    /// <summary>The test split, <see cref="Plan.Batch"/> images a multipart request, <see cref="Plan.Clients"/>
    /// requests at once; an image is right when its highest-probability label is its folder's.</summary>
    private static async Task<Dictionary<string, object?>> ScoreAsync(HttpClient http, Plan plan, string folder)
    {
        var images = Directory.GetFiles(Path.Combine(folder, "test"), "*.png", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).Select(f => (Label: Path.GetFileName(Path.GetDirectoryName(f))!, File: f))
            .ToList();
        var batches = images.Chunk(plan.Batch).ToList();
        var latencies = new ConcurrentBag<double>();
        var (right, scored, failed) = (0, 0, 0);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = plan.Clients },
            async (batch, ct) =>
            {
                using var form = new MultipartFormDataContent();
                foreach (var (label, file) in batch)
                {
                    var part = new ByteArrayContent(await File.ReadAllBytesAsync(file, ct));
                    part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                    form.Add(part, "images", $"{label}/{Path.GetFileName(file)}");
                }
                var one = Stopwatch.StartNew();
                using var response = await http.PostAsync($"score/{plan.Dataset}", form, ct);
                var body = await response.Content.ReadAsStringAsync(ct);
                latencies.Add(one.Elapsed.TotalMilliseconds);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Add(ref failed, batch.Length);
                    Console.Error.WriteLine($"score answered {(int)response.StatusCode}: {body}");
                    return;
                }
                foreach (var image in JsonNode.Parse(body)!["images"]!.AsArray())
                {
                    var name = image!["name"]!.GetValue<string>();
                    var best = image["predictions"]!.AsArray()
                        .MaxBy(p => p!["probability"]!.GetValue<double>())?["label"]?.GetValue<string>();
                    Interlocked.Increment(ref scored);
                    if (best == name[..name.IndexOf('/')]) Interlocked.Increment(ref right);
                }
            });
        var seconds = clock.Elapsed.TotalSeconds;
        var sorted = latencies.Order().ToList();
        return new()
        {
            ["scored"] = scored,
            ["scoreFailed"] = failed,
            ["scoreImagesPerSecond"] = Math.Round(scored / seconds, 1),
            ["scoreRequestP50Ms"] = Math.Round(Percentile(sorted, 50)),
            ["scoreRequestP99Ms"] = Math.Round(Percentile(sorted, 99)),
            ["accuracy"] = scored == 0 ? null : Math.Round((double)right / scored, 4),
        };
    }

    private static void Print(Plan plan, int uploaded, IReadOnlyDictionary<string, double> steps,
        IReadOnlyDictionary<string, object?> figures, IReadOnlyDictionary<string, ProcessWatch.Figures> memory)
    {
        Console.WriteLine($"Fashion-MNIST end to end on the local host: {plan.Train} train + {plan.Test} test images " +
            $"({uploaded} uploaded), seed {plan.Seed}, fast setting; {Arguments.Now()}, load average " +
            $"{Arguments.Load()}");
        Console.WriteLine("\n| step | seconds |\n|---|---:|");
        foreach (var (step, seconds) in steps) Console.WriteLine($"| {step} | {seconds:0.0} |");
        Console.WriteLine("\n| figure | value |\n|---|---:|");
        foreach (var (name, value) in figures.Where(f => f.Key != "job"))
            Console.WriteLine($"| {name} | {value} |");
        Console.WriteLine("\n| process | peak RSS MB (sum of its processes at a sample) | peak VmHWM MB | CPU s |" +
            "\n|---|---:|---:|---:|");
        foreach (var (role, f) in memory.OrderBy(m => m.Key, StringComparer.Ordinal))
            Console.WriteLine($"| {role} | {f.PeakRssMB:0} | {f.PeakHwmMB:0} | {f.CpuSeconds:0} |");
    }

    private static double Lap(Stopwatch clock)
    {
        var seconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        return Math.Round(seconds, 1);
    }

    private static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN
            : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
