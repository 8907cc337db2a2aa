using System.Diagnostics;

namespace Pipeline.FashionMnist.Benchmarks;

/// <summary>A child process whose output lines go to a handler (and on to standard error, prefixed), watched by a
/// <see cref="ProcessWatch"/> under a role.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process process;
    public int Pid => process.Id;
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;

    private ChildProcess(Process process) => this.process = process;

    public static ChildProcess Start(string file, IEnumerable<string> args, string role, ProcessWatch watch,
        Action<string>? line = null, IReadOnlyDictionary<string, string>? environment = null, bool echo = true)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Arguments.RepoRoot(),
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        Console.Error.WriteLine($"[{role}] {file} {string.Join(' ', start.ArgumentList)}");
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        watch.Add(process.Id, role);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            line?.Invoke(e.Data);
            if (echo) Console.Error.WriteLine($"[{role}] {e.Data}");
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) Console.Error.WriteLine($"[{role}] {e.Data}");
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ChildProcess(process);
    }

    /// <summary>Waits for the exit; past <paramref name="timeout"/> the child and its children are killed and this
    /// answers false.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
            process.WaitForExit(); // drains the redirected output
            return true;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return false;
        }
    }

    /// <summary>SIGTERM (a host stops its trainer and Azurite on it), then a kill after
    /// <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (process.HasExited) return;
        var clock = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", $"{process.Id}"])) await kill.WaitForExitAsync();
        Console.Error.WriteLine(await WaitAsync(grace)
            ? $"pid {process.Id} stopped {clock.Elapsed.TotalSeconds:0.0} s after SIGTERM"
            : $"pid {process.Id} did not stop within {grace.TotalSeconds:0} s of SIGTERM: killed");
    }

    public void Dispose() => process.Dispose();
}
