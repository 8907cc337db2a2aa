using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Training;

namespace Pipeline.Local;

public sealed class LocalOptions
{
    public int Port { get; set; } = 7071;
    public bool RunTrainer { get; set; } = true;
    /// <summary>trainer.dll to run; by default the trainer's build output beside this host's.</summary>
    public string? TrainerPath { get; set; }
    /// <summary>How long the trainer may take to hand its job back when the host stops, before it is killed.</summary>
    public int TrainerStopSeconds { get; set; } = 8;
}

/// <summary>
/// Runs <c>dotnet trainer.dll job --watch</c>, the container's job loop, as a child process and starts it again if it
/// dies:
/// a crash in TorchSharp ends the child, not the host. The child keeps the message it holds in a lease file, so a job
/// whose trainer died is recorded as a failed attempt and queued again at once. When the host stops, the child gets
/// SIGTERM, hands its job back and exits; it is never started again while the host stops.
/// </summary>
public sealed class TrainerProcess(IOptions<LocalOptions> options, IConfiguration configuration, JobAttempts attempts,
    IHostApplicationLifetime lifetime, ILogger<TrainerProcess> logger) : BackgroundService
{
    private readonly string leaseFile = Path.Combine(Path.GetTempPath(),
        $"pipeline-trainer-{Environment.ProcessId}-{Guid.NewGuid():N}.lease");

    public Process? Current { get; private set; }
    public int Starts { get; private set; }

    private bool Stopping(CancellationToken stoppingToken) => stoppingToken.IsCancellationRequested
        || lifetime.ApplicationStopping.IsCancellationRequested;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunTrainer) return;
        var trainer = options.Value.TrainerPath ?? FindTrainer();
        if (!File.Exists(trainer))
        {
            logger.LogError(
                "No trainer at {Trainer}: build it with 'dotnet build trainer-container'. Training jobs stay queued.",
                trainer);
            return;
        }
        while (!Stopping(stoppingToken))
        {
            var start = new ProcessStartInfo("dotnet")
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true
            };
            foreach (var arg in new[] { trainer, "job", "--watch", "--lease-file",
                leaseFile }) start.ArgumentList.Add(arg);
            // The child reads the same settings as this host, through the environment, and sends its telemetry where
            // this host sends its own (OTEL_*).
            foreach (var (key, value) in configuration.AsEnumerable())
                if (value is not null && (key == StorageNames.Connection
                    || key.StartsWith("Pipeline:", StringComparison.Ordinal)
                    || key.StartsWith("OTEL_", StringComparison.Ordinal)))
                    start.Environment[key.Replace(":", "__")] = value;
            JobLease.Delete(leaseFile);
            using var child = Process.Start(start)!;
            Current = child;
            Starts++;
            child.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null) logger.LogInformation("trainer: {Line}", e.Data);
            };
            child.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null) logger.LogWarning("trainer: {Line}", e.Data);
            };
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();
            logger.LogInformation("Started the trainer job loop (pid {Pid})", child.Id);
            try { await child.WaitForExitAsync(stoppingToken); }
            catch (OperationCanceledException)
            {
                await StopAsync(child);
                break;
            }
            if (Stopping(stoppingToken))
            {
                // A Ctrl+C in the terminal reaches the child too; if it died holding a job, the host hands it back.
                logger.LogInformation("The trainer exited with code {Code} while the host stops", child.ExitCode);
                await ReleaseAsync(null, CancellationToken.None);
                break;
            }
            logger.LogWarning("The trainer exited with code {Code}; starting it again", child.ExitCode);
            await ReleaseAsync(child.ExitCode, stoppingToken);
            await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    /// <summary>SIGTERM, so the trainer hands its job back; killed if it has not exited in time.</summary>
    private async Task StopAsync(Process child)
    {
        if (child.HasExited) return;
        logger.LogInformation("Stopping the trainer (pid {Pid})", child.Id);
        if (OperatingSystem.IsWindows() || Kill(child.Id, SigTerm) != 0) child.Kill(entireProcessTree: true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.Value.TrainerStopSeconds));
        try { await child.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            logger.LogWarning("The trainer did not stop within {Seconds} s; killing it",
                options.Value.TrainerStopSeconds);
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync(CancellationToken.None);
            // Still loading, say (not every step can stop at once): the host hands the job back for it.
            await ReleaseAsync(null, CancellationToken.None);
            return;
        }
        logger.LogInformation("The trainer stopped with code {Code}", child.ExitCode);
    }

    /// <summary>
    /// A job the dead child held: a failed attempt (or, with no exit code, one handed back), its message visible again
    /// now.
    /// </summary>
    private async Task ReleaseAsync(int? exitCode, CancellationToken ct)
    {
        if (JobLease.Read(leaseFile) is not { } lease) return;
        var reason = exitCode is { } code
            ? $"The trainer process ended with {ExitText(code)} during attempt {lease.Attempt} of training " +
                $"'{lease.Dataset}'."
            : null;
        try { await attempts.ReleaseAsync(lease, reason, ct); }
        catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException
            or OperationCanceledException)
        {
            logger.LogWarning(e,
                "Could not queue job {JobId} of {Dataset} again; it is retried after its visibility timeout",
                lease.JobId, lease.Dataset);
        }
        JobLease.Delete(leaseFile);
    }

    private static string ExitText(int code)
    {
        if (code <= 128 || OperatingSystem.IsWindows()) return $"exit code {code}";
        var name = (code - 128) switch { 9 => ", killed", 6 => ", aborted", 11 => ", segmentation fault", _ => "" };
        return $"exit code {code} (signal {code - 128}{name})";
    }

    private const int SigTerm = 15;

    // libc's kill(2): .NET can send only SIGKILL to another process.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>trainer-container/bin/&lt;configuration&gt;/net10.0/trainer.dll, the configuration being this host's
    /// own.</summary>
    private static string FindTrainer()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var configuration = here.Parent?.Name ?? "Debug";
        return Path.Combine(RepoRoot.Find(), "trainer-container", "bin", configuration, here.Name, "trainer.dll");
    }
}

public static class RepoRoot
{
    /// <summary>The checkout's root: the first folder up from here (or the working directory) holding
    /// Pipeline.sln.</summary>
    public static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException(
            "Cannot find the checkout (Pipeline.sln) above " + AppContext.BaseDirectory);
    }
}
