using System.Net;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Pipeline.Cli;
using Pipeline.Core.Contract;
using Pipeline.Local;
using Xunit;
using Xunit.Abstractions;

namespace Pipeline.Tests;

/// <summary>Every <c>pipeline</c> command, run through its entry method against the fixture's real Azurite and local
/// host.</summary>
[Collection(PipelineCollection.Name)]
public sealed class CliTests(PipelineFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Upload_refuses_locally_what_the_split_would_and_skips_what_is_already_uploaded()
    {
        using var folder = new TempFolder();
        var images = GeneratedImages.Dataset(1, 6, seed: 21);
        foreach (var (label, file, content) in images) folder.Write($"{label}/{file}", content);
        folder.Write("circles/notes.txt", "not an image"u8.ToArray());
        folder.Write("loose.jpg", images[0].Content);                 // not in a label folder
        folder.Write("bad?label/x.jpg", images[0].Content);           // a label name the split refuses
        folder.Write("circles/.DS_Store", [1, 2, 3]);                  // hidden: ignored, not refused

        var first = await RunAsync("upload", folder.Path, "--dataset", "cli-refusals");

        Assert.Equal(ExitCodes.Ok, first.Code);
        Assert.Contains("Uploaded 6 images", first.Out);
        Assert.Contains("3 refused", first.Out);
        Assert.Contains("notes.txt: ", first.Out);
        Assert.Contains("loose.jpg: The image is not in a label folder", first.Out);
        Assert.Contains("bad?label", first.Out);
        Assert.DoesNotContain(".DS_Store", first.Out);
        var blobs = await UploadedAsync("cli-refusals");
        Assert.Equal(6, blobs.Count);
        Assert.All(blobs.Values, hash => Assert.Matches("^[0-9a-f]{64}$", hash));

        var second = await RunAsync("upload", folder.Path, "--dataset", "cli-refusals");

        Assert.Equal(ExitCodes.Ok, second.Code);
        Assert.Contains("Uploaded 0 images", second.Out);
        Assert.Contains("6 already there", second.Out);
        Assert.Equal(blobs, await UploadedAsync("cli-refusals"));
    }

    [Fact]
    public async Task Upload_stopped_with_ctrl_c_uploads_only_the_rest_when_run_again()
    {
        using var folder = new TempFolder();
        foreach (var (label, file, content) in GeneratedImages.Dataset(1, 60, seed: 22))
            folder.Write($"train/{label}/{file}", content);
        using var ctrlC = new CancellationTokenSource();
        // Ctrl+C as soon as the first progress line shows an upload.
        var error = new WatchingWriter(line => { if (line.Contains(" uploaded")) ctrlC.Cancel(); });

        var stopped = await PipelineCli.RunAsync([.. Connection("upload", folder.Path, "--dataset", "cli-resume",
            "--parallel", "2")],
            new CliConsole(new StringWriter(), error, Interactive: false), ctrlC.Token);

        output.WriteLine(error.ToString());
        Assert.Equal(ExitCodes.Interrupted, stopped);
        Assert.Contains("Run the same command again", error.ToString());
        var before = await UploadedAsync("cli-resume");
        Assert.InRange(before.Count, 1, 59);

        var resumed = await RunAsync("upload", folder.Path, "--dataset", "cli-resume");

        Assert.Equal(ExitCodes.Ok, resumed.Code);
        // An upload in flight at Ctrl+C may still land after we looked, so the second run skips at least what we saw.
        var counts = System.Text.RegularExpressions.Regex.Match(resumed.Out,
            @"Uploaded (\d+) images .*; (\d+) already there");
        Assert.True(counts.Success, resumed.Out);
        var (uploaded, skipped) = (int.Parse(counts.Groups[1].Value), int.Parse(counts.Groups[2].Value));
        Assert.Equal(60, uploaded + skipped);
        Assert.InRange(skipped, before.Count, 59);
        var after = await UploadedAsync("cli-resume");
        Assert.Equal(60, after.Count);
        Assert.All(before, b => Assert.Equal(b.Value, after[b.Key]));   // nothing uploaded twice with other content
    }

    [SkippableFact]
    public async Task Upload_stopped_by_a_real_SIGINT_says_how_far_it_got_and_exits_130()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "Sends SIGINT, which only Unix has.");
        using var folder = new TempFolder();
        var random = new Random(24);
        for (var i = 0; i < 200; i++) folder.Write($"circles/big-{i:000}.jpg",
            GeneratedImages.Jpeg(0, random, size: 400));
        // A process started in the background (as CI may start the tests) inherits SIGINT ignored, and .NET keeps it
        // ignored; coreutils' env gives the child the default disposition back, as a terminal would have it.
        var resetSignal = OperatingSystem.IsLinux() && File.Exists("/usr/bin/env");
        var start = new System.Diagnostics.ProcessStartInfo(resetSignal ? "/usr/bin/env" : "dotnet")
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (resetSignal) foreach (var arg in new[] { "--default-signal=INT", "dotnet" }) start.ArgumentList.Add(arg);
        foreach (var arg in Connection(Path.Combine(AppContext.BaseDirectory, "pipeline.dll"), "upload", folder.Path,
            "--dataset", "cli-sigint", "--parallel", "1"))
            start.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = new System.Text.StringBuilder();
        string? line;
        // Ctrl+C in a terminal is SIGINT to the process: send it once the first image is up.
        while ((line = await process.StandardError.ReadLineAsync()) is not null)
        {
            stderr.AppendLine(line);
            if (line.Contains(" uploaded")) { Assert.Equal(0, Kill(process.Id, 2)); break; }
        }
        stderr.Append(await process.StandardError.ReadToEndAsync());
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        output.WriteLine(stderr.ToString() + await stdout);

        Assert.Equal(ExitCodes.Interrupted, process.ExitCode);
        Assert.Contains("Run the same command again", stderr.ToString());
        Assert.InRange((await UploadedAsync("cli-sigint")).Count, 1, 199);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [Fact]
    public async Task Every_command_from_upload_to_download_against_Azurite_and_the_local_host()
    {
        const string dataset = "cli-shapes";
        using var folder = new TempFolder();
        foreach (var (label, file, content) in GeneratedImages.Dataset(3, 12, seed: 23)) folder.Write($"{label}/{file}",
            content);
        // Refused by the split, not by the command line: the job's report lists it.
        await fixture.UploadAsync($"{dataset}/circles/readme.txt", "uploaded by hand"u8.ToArray());

        var upload = await RunAsync("upload", folder.Path, "--dataset", dataset);
        Assert.Equal(ExitCodes.Ok, upload.Code);
        await fixture.WaitForAsync(dataset, s => s.TrainImages + s.TestImages == 36 && s.Rejected.Count == 1,
            "the uploads to be split", 120);

        var train = await RunAsync("train", dataset, "--fast", "--watch");
        Assert.True(train.Code == ExitCodes.Ok, train.Out + train.Err);
        Assert.Contains("succeeded", train.Out);
        Assert.Contains("Report: http://", train.Out);

        var status = await RunAsync("status", dataset, "--json");
        Assert.Equal(ExitCodes.Ok, status.Code);
        var statusJson = JsonDocument.Parse(status.Out).RootElement;
        var version = statusJson.GetProperty("model").GetProperty("version").GetString()!;
        var reportUrl = statusJson.GetProperty("report").GetString()!;
        using (var page = await fixture.Http.GetAsync(reportUrl))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains(version, html);
            Assert.Contains("readme.txt", html);
        }
        var statusText = await RunAsync("status", dataset);
        Assert.Contains("circles", statusText.Out);
        Assert.Contains($"Model: {version}", statusText.Out);

        var models = await RunAsync("models", dataset);
        Assert.Equal(ExitCodes.Ok, models.Code);
        Assert.Contains($"* {version}", models.Out);

        var image = folder.Combine("squares/squares-000.jpg");
        var one = await RunAsync("score", image, "--dataset", dataset, "--top", "2");
        Assert.Equal(ExitCodes.Ok, one.Code);
        Assert.Contains("squares-000.jpg", one.Out);
        Assert.Equal(2 + 1 + 1, one.Out.Trim().Split('\n').Length);     // header, 2 predictions, model line
        var many = await RunAsync("score", folder.Combine("circles"), "--dataset", dataset, "--json");
        Assert.Equal(ExitCodes.Ok, many.Code);
        var scored = JsonDocument.Parse(many.Out).RootElement;
        Assert.Equal(version, scored.GetProperty("modelVersion").GetString());
        Assert.Equal(12, scored.GetProperty("images").GetArrayLength());
        Assert.All(scored.GetProperty("images").EnumerateArray(),
            i => Assert.Equal(3, i.GetProperty("predictions").GetArrayLength()));

        var reportFile = folder.Combine("saved-report.html");
        var report = await RunAsync("report", dataset, "--out", reportFile);
        Assert.Equal(ExitCodes.Ok, report.Code);
        Assert.Contains(version, await File.ReadAllTextAsync(reportFile));

        var modelFolder = folder.Combine("model");
        var download = await RunAsync("download", dataset, "--out", modelFolder);
        Assert.Equal(ExitCodes.Ok, download.Code);
        Assert.True(new FileInfo(Path.Combine(modelFolder, "model.onnx")).Length > 1_000_000);
        var manifest = JsonSerializer.Deserialize<ModelManifest>(await File.ReadAllTextAsync(Path.Combine(modelFolder,
            "model.json")), Json.Options)!;
        Assert.Equal(version, manifest.Version);
        Assert.Equal(3, manifest.Labels.Count);
    }

    [Fact]
    public async Task Unreachable_storage_or_API_unknown_dataset_and_bad_paths_say_so_with_their_exit_codes()
    {
        var noStorage = fixture.Azurite.ConnectionString.Replace($"127.0.0.1:{fixture.Azurite.BlobPort}",
            $"127.0.0.1:{Azurite.FreePort()}");
        using var images = new TempFolder();
        images.Write("circles/a.jpg", GeneratedImages.Dataset(1, 1, seed: 3).First().Content);
        // Only upload writes to storage; every other command goes through the API.
        var storage = await RunRawAsync(["upload", images.Path, "--dataset", "anything", "--connection-string",
            noStorage]);
        Assert.Equal(ExitCodes.Unreachable, storage.Code);
        Assert.Contains("Cannot reach the storage", storage.Err);

        var api = await RunRawAsync(["status", "anything", "--api", $"http://127.0.0.1:{Azurite.FreePort()}/api"]);
        Assert.Equal(ExitCodes.Unreachable, api.Code);
        Assert.Contains("Cannot reach the API", api.Err);

        var unknown = await RunAsync("status", "cli-no-such-dataset");
        Assert.Equal(ExitCodes.NotFound, unknown.Code);
        Assert.Contains("no dataset 'cli-no-such-dataset'", unknown.Err);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("models", "cli-no-such-dataset")).Code);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("report", "cli-no-such-dataset")).Code);

        var missing = await RunAsync("upload", "/no/such/folder", "--dataset", "x1");
        Assert.Equal(ExitCodes.Usage, missing.Code);
        Assert.Contains("no folder '/no/such/folder'", missing.Err);
        using var folder = new TempFolder();
        Assert.Equal(ExitCodes.Usage, (await RunAsync("upload", folder.Path, "--dataset", "Not_A_Name")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("score", "/no/such/image.jpg", "--dataset", "x1")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("frobnicate")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("status", "x1", "--no-such-option", "1")).Code);
    }

    [Fact]
    public async Task Status_without_a_dataset_lists_uploads_under_an_invalid_dataset_name_with_the_reason()
    {
        await fixture.UploadAsync("Cli_Bad_Name/circles/a.jpg", GeneratedImages.Jpeg(0, new Random(5)));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        (int Code, string Out, string Err) status;
        do status = await RunAsync("status");
        while (!status.Out.Contains("Cli_Bad_Name/circles/a.jpg") && DateTime.UtcNow < deadline
            && await Task.Delay(500).ContinueWith(_ => true));

        Assert.Equal(ExitCodes.Ok, status.Code);
        Assert.Contains("Uploads under an invalid dataset name (rejected):", status.Out);
        Assert.Contains("Cli_Bad_Name/circles/a.jpg: The dataset name 'Cli_Bad_Name' may hold only lower-case letters",
            status.Out);
        // The same list is in the API's answer.
        using var answer = System.Text.Json.JsonDocument.Parse(await fixture.Http.GetStringAsync("datasets"));
        Assert.Contains(answer.RootElement.GetProperty("rejectedWithoutDataset").EnumerateArray(),
            r => r.GetProperty("path").GetString() == "Cli_Bad_Name/circles/a.jpg");
    }

    private Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => RunRawAsync(Connection(args));

    private IEnumerable<string> Connection(params string[] args) =>
        args.Concat(["--connection-string", fixture.Azurite.ConnectionString, "--api",
            fixture.Http.BaseAddress!.ToString()]);

    private async Task<(int Code, string Out, string Err)> RunRawAsync(IEnumerable<string> args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await PipelineCli.RunAsync([.. args], new CliConsole(stdout, stderr, Interactive: false),
            CancellationToken.None);
        output.WriteLine($"pipeline {string.Join(' ', args.Take(4))} ... -> {code}\n{stdout}{stderr}");
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Blob name to the SHA-256 the command line stored with it.</summary>
    private async Task<Dictionary<string, string>> UploadedAsync(string dataset)
    {
        var blobs = new Dictionary<string, string>();
        await foreach (var blob in fixture.Storage.Uploads.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None,
            $"{dataset}/", CancellationToken.None))
            blobs[blob.Name] = blob.Metadata.TryGetValue(UploadCommand.HashMetadata, out var hash) ? hash : "";
        return blobs;
    }

    private sealed class WatchingWriter(Action<string> onLine) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            onLine(value ?? "");
        }
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("cli-test-").FullName;
        public string Combine(string relative) => System.IO.Path.Combine(Path, relative);

        public void Write(string relative, byte[] content)
        {
            var path = Combine(relative);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, content);
        }

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
