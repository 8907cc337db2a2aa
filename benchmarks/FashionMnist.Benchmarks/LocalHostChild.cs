using System.Net;
using System.Net.Sockets;
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
        var (port, blobPort) = (FreePort(), FreePorts(3));
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first of <paramref name="count"/> consecutive free ports (Azurite's blob, queue and
    /// table).</summary>
    private static int FreePorts(int count)
    {
        for (var attempt = 0; ; attempt++)
        {
            var first = FreePort();
            if (first + count > 65535) continue;
            try
            {
                var listeners = Enumerable.Range(first, count).Select(p =>
                {
                    var l = new TcpListener(IPAddress.Loopback, p);
                    l.Start();
                    return l;
                }).ToList();
                listeners.ForEach(l => l.Stop());
                return first;
            }
            catch (SocketException) when (attempt < 50) { }
        }
    }
}
