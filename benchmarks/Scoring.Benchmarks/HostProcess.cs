using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;
using Pipeline.Local;

namespace Pipeline.Scoring.Benchmarks;

/// <summary>
/// The local host as a user runs it (<c>dotnet local/bin/Release/net10.0/Pipeline.Local.dll</c>), in a child process
/// so its resident memory is its own: it starts its own Azurite on free ports, without its trainer; a model version
/// is published into it as the trainer would.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly string data;
    public Uri Api { get; }
    public int Pid => process.Id;
    private readonly int blobPort;

    private HostProcess(Process process, string data, int port, int blobPort)
    {
        this.process = process;
        this.data = data;
        this.blobPort = blobPort;
        Api = new Uri($"http://127.0.0.1:{port}/api/");
    }

    public static async Task<HostProcess> StartAsync(IReadOnlyDictionary<string, string> settings, string? build)
    {
        var repo = Arguments.RepoRoot();
        var dll = Path.Combine(build ?? Path.Combine(repo, "local", "bin", "Release", "net10.0"), "Pipeline.Local.dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException("Build the host first: dotnet build local -c Release");
        var data = Path.Combine(Path.GetTempPath(), $"scoring-bench-{Guid.NewGuid():N}");
        var (port, blobPort) = (Azurite.FreePort(), Azurite.FreeBlobPort());
        var start = new ProcessStartInfo("dotnet", [dll]) { WorkingDirectory = repo, RedirectStandardOutput = true };
        start.Environment["Local__Port"] = $"{port}";
        start.Environment["Local__RunTrainer"] = "false";
        start.Environment["Local__AzuriteBlobPort"] = $"{blobPort}";
        start.Environment["Local__AzuriteData"] = data;
        start.Environment["Pipeline__QuietPeriodSeconds"] = "0";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings) start.Environment[key] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        var host = new HostProcess(process, data, port, blobPort);
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"The host exited with {process.ExitCode}.");
            try { if ((await http.GetAsync(new Uri(host.Api, "datasets"))).IsSuccessStatusCode) return host; }
            catch (HttpRequestException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The host did not answer within 3 minutes.");
            await Task.Delay(500);
        }
    }

    /// <summary>Uploads model.onnx and model.json as a version of <paramref name="dataset"/> and promotes
    /// it.</summary>
    public async Task PublishAsync(string dataset, string modelFolder)
    {
        var (blobs, queues) = StorageClients.FromConnectionString(
            Azurite.ConnectionStringFor(blobPort, blobPort + 1, blobPort + 2));
        var store = new ModelStore(new PipelineStorage(blobs, queues), NullLogger<ModelStore>.Instance);
        var staged = Directory.CreateTempSubdirectory("scoring-model-").FullName;
        foreach (var file in new[] { ModelFiles.Model, ModelFiles.Manifest })
            File.Copy(Path.Combine(modelFolder, file), Path.Combine(staged, file));
        const string version = "bench";
        await store.UploadAsync(dataset, version, staged, CancellationToken.None);
        await store.PromoteAsync(new LatestModel(dataset, version, version, DateTimeOffset.UtcNow, 0, null), null,
            CancellationToken.None);
        Directory.Delete(staged, recursive: true);
    }

    /// <summary>The host's resident memory (VmRSS) in MB.</summary>
    public double ResidentMegabytes()
    {
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        return double.NaN;
    }

    /// <summary>Stops the host as a service manager does (SIGTERM): it stops the Azurite it started.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", $"{process.Id}"]);
            await kill.WaitForExitAsync();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await process.WaitForExitAsync(wait.Token); }
            catch (OperationCanceledException) { process.Kill(entireProcessTree: true); }
        }
        process.Dispose();
        try { Directory.Delete(data, recursive: true); } catch (IOException) { }
    }
}
