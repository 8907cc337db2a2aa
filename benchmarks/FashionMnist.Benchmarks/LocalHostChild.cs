using Pipeline.Local;

namespace Pipeline.FashionMnist.Benchmarks;

/// <summary>
/// The local host as a user runs it (<c>dotnet local/bin/Release/net10.0/Pipeline.Local.dll</c>), a child process
/// that starts its own Azurite (free ports, a temporary data folder) and its trainer (the Release build beside it).
/// </summary>
public sealed class LocalHostChild : IAsyncDisposable
{
    private readonly ChildProcess process;
    private readonly string data;

    public Uri Api { get; }
    public string ConnectionString { get; }
    public int Pid => process.Pid;

    private LocalHostChild(ChildProcess process, string data, int port, int blobPort)
    {
        this.process = process;
        this.data = data;
        Api = new Uri($"http://127.0.0.1:{port}/api/");
        ConnectionString = Azurite.ConnectionStringFor(blobPort, blobPort + 1, blobPort + 2);
    }

    public static string Dll(string? build) => Path.Combine(build ?? Path.Combine(Arguments.RepoRoot(), "local",
        "bin", "Release", "net10.0"), "Pipeline.Local.dll");

    public static async Task<LocalHostChild> StartAsync(IReadOnlyDictionary<string, string> settings, string? build,
        ProcessWatch watch, TimeSpan timeout)
    {
        var data = Directory.CreateTempSubdirectory("fashion-azurite-").FullName;
        var (port, blobPort) = (Azurite.FreePort(), Azurite.FreeBlobPort());
        var environment = new Dictionary<string, string>
        {
            ["Local__Port"] = $"{port}",
            ["Local__AzuriteBlobPort"] = $"{blobPort}",
            ["Local__AzuriteData"] = data,
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in settings) environment[key] = value;
        var process = ChildProcess.Start("dotnet", [Dll(build)], "host", watch, environment: environment);
        var host = new LocalHostChild(process, data, port, blobPort);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"The host exited with {process.ExitCode}.");
            try { if ((await http.GetAsync(new Uri(host.Api, "datasets"))).IsSuccessStatusCode) return host; }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline)
            {
                await host.DisposeAsync();
                throw new TimeoutException($"The host did not answer within {timeout.TotalMinutes:0} minutes.");
            }
            await Task.Delay(500);
        }
    }

    /// <summary>Stops the host as a service manager does (SIGTERM): it stops its trainer, then its Azurite.</summary>
    public async ValueTask DisposeAsync()
    {
        await process.StopAsync(TimeSpan.FromSeconds(60));
        process.Dispose();
        try { Directory.Delete(data, recursive: true); } catch (IOException) { }
    }
}
