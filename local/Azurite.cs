using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Pipeline.Local;

/// <summary>
/// Azurite, the storage emulator, installed from npm into the checkout's git-ignored .azurite/ folder on first use and
/// started on 127.0.0.1. The local host and the tests both use this, so they install and start it the same way.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    public const string Version = "3.37.0";
    public const int DefaultBlobPort = 10000;
    // Azurite's documented, public development account: not a secret.
    private const string AccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process? process;

    private Azurite(int blobPort, int queuePort, int tablePort, Process? process)
    {
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
        this.process = process;
    }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }
    /// <summary>False when an Azurite that was already running is used: it is then left running.</summary>
    public bool StartedHere => process is not null;
    /// <summary>The node process this started (benchmarks read its CPU time), or null.</summary>
    public int? ProcessId => process?.Id;

    public string ConnectionString => ConnectionStringFor(BlobPort, QueuePort, TablePort);

    public static string ConnectionStringFor(int blobPort, int queuePort, int tablePort) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{queuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{tablePort}/devstoreaccount1;";

    /// <summary>
    /// The Azurite on <paramref name="blobPort"/> (queue and table on the next two ports) if one answers there, else a
    /// new
    /// one with its data in <paramref name="dataFolder"/>.
    /// </summary>
    public static async Task<Azurite> EnsureRunningAsync(string repoRoot, string dataFolder, Action<string> log,
        CancellationToken ct,
        int blobPort = DefaultBlobPort)
    {
        if (await AnswersAsync(blobPort, ct) && await AnswersAsync(blobPort + 1, ct))
        {
            log($"Using the Azurite already running on 127.0.0.1:{blobPort}-{blobPort + 2}.");
            return new Azurite(blobPort, blobPort + 1, blobPort + 2, null);
        }
        return await StartAsync(repoRoot, dataFolder, blobPort, blobPort + 1, blobPort + 2, log, ct);
    }

    /// <summary>A new Azurite on free ports (tests: never collides with a running local host).</summary>
    public static Task<Azurite> StartOnFreePortsAsync(
        string repoRoot, string dataFolder, Action<string> log, CancellationToken ct) =>
        StartAsync(repoRoot, dataFolder, FreePort(), FreePort(), FreePort(), log, ct);

    public static async Task<Azurite> StartAsync(string repoRoot, string dataFolder, int blobPort, int queuePort,
        int tablePort, Action<string> log, CancellationToken ct)
    {
        var script = await EnsureInstalledAsync(repoRoot, log, ct);
        Directory.CreateDirectory(dataFolder);
        // In a session of its own (setsid keeps the pid), a Ctrl+C in the terminal reaches the host alone, which stops
        // its triggers and trainer while storage is still there, and only then Azurite.
        var setsid = !OperatingSystem.IsWindows() && File.Exists("/usr/bin/setsid");
        var start = new ProcessStartInfo(setsid ? "/usr/bin/setsid" : "node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (setsid) start.ArgumentList.Add("node");
        foreach (var arg in new[] { script, "--blobHost", "127.0.0.1", "--blobPort", $"{blobPort}",
                     "--queueHost", "127.0.0.1", "--queuePort", $"{queuePort}",
                     "--tableHost", "127.0.0.1", "--tablePort", $"{tablePort}", "--location", dataFolder,
                     "--skipApiVersionCheck", "--loose" })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node for Azurite.");
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var azurite = new Azurite(blobPort, queuePort, tablePort, process);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => azurite.Kill();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await AnswersAsync(blobPort, ct) && await AnswersAsync(queuePort, ct)))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                azurite.Kill();
                throw new InvalidOperationException(
                    $"Azurite did not start on 127.0.0.1:{blobPort}: {string.Join(Environment.NewLine, output)}");
            }
            await Task.Delay(200, ct);
        }
        log($"Started Azurite {Version} on 127.0.0.1:{blobPort} (blob), {queuePort} (queue), {tablePort} (table); "
            + $"data in {dataFolder}.");
        return azurite;
    }

    /// <summary>The path of Azurite's entry script, after installing it with npm if it is missing.</summary>
    public static async Task<string> EnsureInstalledAsync(string repoRoot, Action<string> log, CancellationToken ct)
    {
        var prefix = Path.Combine(repoRoot, ".azurite", "npm");
        var script = Path.Combine(prefix, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (File.Exists(script)) return script;
        Directory.CreateDirectory(prefix);
        // The tests and a local host may start together on a fresh clone: one installs, the other waits for it.
        await using var installLock = await LockAsync(Path.Combine(repoRoot, ".azurite", "install.lock"), ct);
        if (File.Exists(script)) return script;
        log($"Installing Azurite {Version} with npm into {prefix} (first use only)...");
        var install = new ProcessStartInfo("npm")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false
        };
        foreach (var arg in new[]
                 {
                     "install", "--prefix", prefix, $"azurite@{Version}",
                     "--no-audit", "--no-fund", "--loglevel", "error"
                 })
            install.ArgumentList.Add(arg);
        using var npm = Process.Start(install)
            ?? throw new InvalidOperationException("Could not start npm: Node.js and npm are needed to run Azurite.");
        var stderr = npm.StandardError.ReadToEndAsync(ct);
        await npm.StandardOutput.ReadToEndAsync(ct);
        await npm.WaitForExitAsync(ct);
        if (npm.ExitCode != 0 || !File.Exists(script))
            throw new InvalidOperationException(
                $"npm could not install azurite@{Version} (exit {npm.ExitCode}): {await stderr}");
        return script;
    }

    private static async Task<FileStream> LockAsync(string path, CancellationToken ct)
    {
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) { await Task.Delay(500, ct); }
        }
    }

    public static async Task<bool> AnswersAsync(int port, CancellationToken ct)
    {
        using var client = new TcpClient();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A free port whose next two are free too: the blob port of a host started with its own Azurite
    /// (<c>Local:AzuriteBlobPort</c>; queue and table on the next two), for tests and benchmarks.</summary>
    public static int FreeBlobPort()
    {
        for (var attempt = 0; ; attempt++)
        {
            var first = FreePort();
            if (first + 2 > IPEndPoint.MaxPort) continue;
            var listeners = new List<TcpListener>();
            try
            {
                foreach (var port in Enumerable.Range(first, 3))
                {
                    listeners.Add(new TcpListener(IPAddress.Loopback, port));
                    listeners[^1].Start();
                }
                return first;
            }
            catch (SocketException) when (attempt < 50) { }
            finally { listeners.ForEach(l => l.Stop()); }
        }
    }

    private void Kill()
    {
        try { if (process is { HasExited: false }) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    private int disposed;

    public async ValueTask DisposeAsync()
    {
        if (process is null || Interlocked.Exchange(ref disposed, 1) == 1) return;
        // SIGTERM first: Azurite closes its servers and saves its metadata (a kill loses the last seconds of it).
        if (!OperatingSystem.IsWindows() && !process.HasExited && SendSignal(process.Id, 15) == 0)
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            try { await process.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException) { }
        }
        Kill();
        await process.WaitForExitAsync();
        process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
