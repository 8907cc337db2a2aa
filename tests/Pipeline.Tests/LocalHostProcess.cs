using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Storage;
using Pipeline.Local;

namespace Pipeline.Tests;

/// <summary>
/// <c>dotnet Pipeline.Local.dll</c> as a user runs it, in a process of its own, with its own Azurite on free ports and
/// a data folder that outlives it (so a test can look at storage after the host has stopped).
/// </summary>
public sealed class LocalHostProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> lines = new();

    private LocalHostProcess(Process process, int blobPort, int apiPort, string dataFolder)
    {
        this.process = process;
        BlobPort = blobPort;
        DataFolder = dataFolder;
        Http = new HttpClient
        {
            BaseAddress = new Uri($"http://127.0.0.1:{apiPort}/api/"),
            Timeout = TimeSpan.FromSeconds(30)
        };
        Storage = new PipelineStorage(new Azure.Storage.Blobs.BlobServiceClient(ConnectionString),
            new Azure.Storage.Queues.QueueServiceClient(ConnectionString,
                new Azure.Storage.Queues.QueueClientOptions
                {
                    MessageEncoding = Azure.Storage.Queues.QueueMessageEncoding.Base64,
                }));
    }

    public int BlobPort { get; }
    public string DataFolder { get; }
    public HttpClient Http { get; }
    public PipelineStorage Storage { get; }
    public Process Process => process;
    public string ConnectionString => Azurite.ConnectionStringFor(BlobPort, BlobPort + 1, BlobPort + 2);
    public IReadOnlyList<string> Lines => lines.ToArray();
    public string Output => string.Join(Environment.NewLine, lines);

    public static async Task<LocalHostProcess> StartAsync(IDictionary<string, string> settings)
    {
        var root = RepoRoot.Find();
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;
        var dll = Path.Combine(root, "local", "bin", configuration, "net10.0", "Pipeline.Local.dll");
        var blobPort = Azurite.FreeBlobPort();
        var apiPort = Azurite.FreePort();
        var data = Path.Combine(root, ".azurite", $"test-host-{Guid.NewGuid():N}");
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false, RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        start.ArgumentList.Add(dll);
        start.Environment["Local__AzuriteBlobPort"] = $"{blobPort}";
        start.Environment["Local__AzuriteData"] = data;
        start.Environment["Local__Port"] = $"{apiPort}";
        foreach (var (key, value) in settings) start.Environment[key] = value;
        var host = new LocalHostProcess(Process.Start(start)!, blobPort, apiPort, data);
        host.process.OutputDataReceived += (_, e) => { if (e.Data is not null) host.lines.Enqueue(e.Data); };
        host.process.ErrorDataReceived += (_, e) => { if (e.Data is not null) host.lines.Enqueue(e.Data); };
        host.process.BeginOutputReadLine();
        host.process.BeginErrorReadLine();
        await host.WaitForLineAsync(l => l.Contains("The pipeline runs on this machine"), TimeSpan.FromMinutes(3));
        return host;
    }

    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, int skip = 0)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (lines.Skip(skip).FirstOrDefault(match) is { } line) return line;
            if (process.HasExited)
                throw new InvalidOperationException($"The host exited with {process.ExitCode}:\n{Output}");
            await Task.Delay(200);
        }
        throw new TimeoutException($"No such line in {timeout.TotalSeconds} s:\n{Output}");
    }

    public async Task<DatasetStatus?> StatusAsync(string dataset)
    {
        using var response = await Http.GetAsync($"datasets/{dataset}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<DatasetStatus>(Json.Options);
    }

    public async Task<DatasetStatus> WaitForAsync(string dataset, Func<DatasetStatus, bool> done, string what,
        int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        DatasetStatus? status = null;
        while (DateTime.UtcNow < deadline)
        {
            status = await StatusAsync(dataset);
            if (status is not null && done(status)) return status;
            await Task.Delay(300);
        }
        throw new TimeoutException($"Waited {seconds} s for {what}; last status: " +
            $"{System.Text.Json.JsonSerializer.Serialize(status, Json.Options)}\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        try { Directory.Delete(DataFolder, recursive: true); } catch (IOException) { }
    }
}
