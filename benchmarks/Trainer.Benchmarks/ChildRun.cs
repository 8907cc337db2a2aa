using System.Diagnostics;
using System.Text.Json;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// What one child process did: its exit code, last JSON line, wall time, the largest resident memory seen, and
/// whether it was killed for running past its time.
/// </summary>
public sealed record ChildRun(int ExitCode, JsonElement? Result, double WallSeconds, long? SampledPeakMemoryMB,
    bool TimedOut = false)
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Runs <paramref name="file"/> to the end. Its output goes to our standard error as it comes, so the table stays
    /// alone on standard output. VmRSS is sampled every 200 ms for children that do not report their own peak.
    /// A child still running after <paramref name="timeout"/> is killed with its own children, so one stuck run
    /// cannot hold up the rest of a benchmark.
    /// </summary>
    public static ChildRun Run(string file, IEnumerable<string> args, string label, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            UseShellExecute = false
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        Console.Error.WriteLine($"[{label}] {file} {string.Join(' ', info.ArgumentList)}");

        string? lastLine = null;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        process.OutputDataReceived += (_, e) =>
        {
            if (string.IsNullOrWhiteSpace(e.Data)) return;
            lastLine = e.Data;
            Console.Error.WriteLine($"[{label}] {e.Data}");
        };
        process.ErrorDataReceived += (_, e)
            =>
        { if (e.Data is not null) Console.Error.WriteLine($"[{label}] {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        long? peakKb = null;
        var timedOut = false;
        while (!process.WaitForExit(SampleEvery))
        {
            if (ResidentKb(process.Id) is { } kb) peakKb = Math.Max(peakKb ?? 0, kb);
            if (timeout is { } limit && clock.Elapsed > limit && !timedOut)
            {
                Console.Error.WriteLine($"[{label}] still running after {limit.TotalMinutes:0.#} min: " +
                    "killed, recorded as failed");
                process.Kill(entireProcessTree: true);
                timedOut = true;
            }
        }
        process.WaitForExit(); // drains the redirected streams
        var wall = clock.Elapsed.TotalSeconds;

        JsonElement? result = null;
        if (process.ExitCode == 0 && !timedOut && lastLine is not null)
        {
            try { result = JsonDocument.Parse(lastLine).RootElement.Clone(); }
            catch (JsonException) { Console.Error.WriteLine($"[{label}] the last line is not JSON: {lastLine}"); }
        }
        return new ChildRun(process.ExitCode, result, wall, peakKb / 1024, timedOut);
    }

    /// <summary>VmRSS of a process in kB from /proc, or null once it has gone (or off Linux).</summary>
    private static long? ResidentKb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:",
                StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
