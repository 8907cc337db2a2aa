using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Pipeline.Scoring.Benchmarks;

/// <summary>
/// <c>load</c>: the local host in a child process with a published model, scored over HTTP by closed-loop clients
/// (each sends its next request when the last is answered, and waits Retry-After after a 503), at each number of
/// clients in turn; the host's resident memory is sampled throughout and for a while after the load.
/// </summary>
public static class LoadCommand
{
    private const string Dataset = "bench";

    public static Command Create()
    {
        var model = Arguments.Model();
        var images = Arguments.Images();
        var clients = Arguments.Ints("--clients", "Concurrent clients, one level after another", [1, 4, 16, 64]);
        var requests = new Option<int>("--requests")
        {
            Description = "Requests per level (answers, 503s included)",
            DefaultValueFactory = _ => 500,
        };
        var perRequest = new Option<int>("--images-per-request")
        {
            Description = "1: the image as the body; more: a multipart/form-data body of that many images",
            DefaultValueFactory = _ => 1,
        };
        var settings = new Option<string[]>("--host")
        {
            Description = "The host's settings as KEY=VALUE, repeatable (Local__ScoreConcurrency=2, DOTNET_gcServer=0)",
            DefaultValueFactory = _ => [],
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var sample = new Option<double>("--sample-seconds")
        {
            Description = "How often the host's resident memory is read",
            DefaultValueFactory = _ => 5,
        };
        var after = new Option<double>("--after-seconds")
        {
            Description = "How long memory is sampled after the last level, the host idle",
            DefaultValueFactory = _ => 0,
        };
        var build = new Option<string?>("--host-build")
        {
            Description = "The host's build folder [default: local/bin/Release/net10.0]",
            HelpName = "folder",
        };
        var plot = new Option<string?>("--plot")
        {
            Description = "Write the memory samples as a PNG plot here (and as CSV beside it)",
            HelpName = "file.png",
        };
        var command = new Command("load", "Requests/s, p50, p99 and share shed at each number of clients, and the " +
            "host's memory")
        { model, images, clients, requests, perRequest, settings, build, sample, after, plot };
        command.SetAction((parse, ct) => RunAsync(new Plan(parse.GetRequiredValue(model),
            parse.GetRequiredValue(images), parse.GetRequiredValue(clients), parse.GetRequiredValue(requests),
            parse.GetRequiredValue(perRequest), parse.GetRequiredValue(settings), parse.GetRequiredValue(sample),
            parse.GetRequiredValue(after), parse.GetValue(plot), parse.GetValue(build))));
        return command;
    }

    private sealed record Plan(string Model, string Images, IReadOnlyList<int> Clients, int Requests,
        int PerRequest, IReadOnlyList<string> Settings, double SampleSeconds, double AfterSeconds, string? Plot,
        string? Build);

    private static async Task<int> RunAsync(Plan plan)
    {
        var settings = plan.Settings.Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var images = Arguments.ImageFiles(plan.Images).Select(File.ReadAllBytes).ToList();
        await using var host = await HostProcess.StartAsync(settings, plan.Build);
        await host.PublishAsync(Dataset, plan.Model);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1000 })
        {
            BaseAddress = host.Api,
            Timeout = TimeSpan.FromMinutes(2),
        };
        // The model loads on the first request; one more per client count's worth warms the pools.
        for (var i = 0; i < 4; i++) await SendAsync(http, images, i, plan.PerRequest);

        var memory = new MemorySamples(host, plan.SampleSeconds);
        Console.WriteLine($"{Arguments.Now()}, {Arguments.Load()}; host settings: " +
            $"{(settings.Count == 0 ? "defaults" : string.Join(" ", plan.Settings))}; {plan.PerRequest} image(s) a " +
            $"request; {images.Count} images from {plan.Images}");
        Console.WriteLine("| clients | requests | served/s | images/s | p50 ms | p99 ms | max ms | shed | errors |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var load = memory.Mark("load");
        foreach (var clients in plan.Clients)
        {
            var level = await RunLevelAsync(http, images, clients, plan.Requests, plan.PerRequest, memory);
            Console.WriteLine(level);
        }
        var end = memory.Mark("end of load");
        Console.WriteLine($"{Arguments.Now()}, {Arguments.Load()}");
        if (plan.AfterSeconds > 0) await Task.Delay(TimeSpan.FromSeconds(plan.AfterSeconds));
        memory.Stop();
        Console.WriteLine(memory.Summary(load, end, plan.AfterSeconds));
        if (plan.Plot is { } file)
        {
            MemoryPlot.Write(memory, file, $"Host resident memory, {string.Join("/", plan.Clients)} clients, " +
                $"{plan.PerRequest} image(s) a request");
            Console.WriteLine($"Plot: {file}");
        }
        return 0;
    }

    private static async Task<string> RunLevelAsync(HttpClient http, IReadOnlyList<byte[]> images, int clients,
        int requests, int perRequest, MemorySamples memory)
    {
        var served = new ConcurrentBag<double>();
        var statuses = new ConcurrentDictionary<string, int>();
        var next = -1;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                var one = Stopwatch.StartNew();
                var (status, retryAfter) = await SendAsync(http, images, i, perRequest);
                statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                memory.Completed();
                if (status == "200") served.Add(one.Elapsed.TotalMilliseconds);
                else if (retryAfter is { } wait) await Task.Delay(wait);
            }
        })));
        var seconds = wall.Elapsed.TotalSeconds;
        var sorted = served.Order().ToList();
        var shed = statuses.GetValueOrDefault("503");
        var errors = statuses.Where(s => s.Key is not ("200" or "503")).Select(s => $"{s.Value}x {s.Key}").ToList();
        return $"| {clients} | {requests} | {sorted.Count / seconds:0.0} | " +
            $"{sorted.Count * perRequest / seconds:0.0} | " +
            $"{Arguments.Percentile(sorted, 50):0} | {Arguments.Percentile(sorted, 99):0} | " +
            $"{(sorted.Count > 0 ? sorted[^1] : double.NaN):0} | {100.0 * shed / requests:0.0} % | " +
            $"{(errors.Count == 0 ? "0" : string.Join(", ", errors))} |";
    }

    /// <summary>One request: its status ("timeout" or the error when there is none) and Retry-After.</summary>
    private static async Task<(string Status, TimeSpan? RetryAfter)> SendAsync(HttpClient http,
        IReadOnlyList<byte[]> images, int index, int perRequest)
    {
        try
        {
            using HttpContent content = perRequest == 1 ? Jpeg(images[index % images.Count]) : Multipart();
            using var response = await http.PostAsync($"score/{Dataset}", content);
            await response.Content.LoadIntoBufferAsync();
            return ($"{(int)response.StatusCode}", response.StatusCode == HttpStatusCode.ServiceUnavailable
                ? response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1) : null);
        }
        catch (TaskCanceledException) { return ("timeout", null); }
        catch (HttpRequestException e) { return (e.HttpRequestError.ToString(), null); }

        MultipartFormDataContent Multipart()
        {
            var form = new MultipartFormDataContent();
            for (var k = 0; k < perRequest; k++)
                form.Add(Jpeg(images[(index * perRequest + k) % images.Count]), "images", $"image{k}.jpg");
            return form;
        }
    }

    private static ByteArrayContent Jpeg(byte[] bytes) =>
        new(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } };
}
