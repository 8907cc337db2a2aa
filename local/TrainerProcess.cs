using System.Diagnostics;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;

namespace Pipeline.Local;

public sealed class LocalOptions
{
    public int Port { get; set; } = 7071;
    public bool RunTrainer { get; set; } = true;
    /// <summary>trainer.dll to run; by default the trainer's build output beside this host's.</summary>
    public string? TrainerPath { get; set; }
}

/// <summary>
/// Runs <c>dotnet trainer.dll job --watch</c>, the container's job loop, as a child process and starts it again if it dies:
/// a crash in TorchSharp ends the child, not the host, and the unfinished message is retried.
/// </summary>
public sealed class TrainerProcess(IOptions<LocalOptions> options, IConfiguration configuration, ILogger<TrainerProcess> logger) : BackgroundService
{
    public Process? Current { get; private set; }
    public int Starts { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunTrainer) return;
        var trainer = options.Value.TrainerPath ?? FindTrainer();
        if (!File.Exists(trainer))
        {
            logger.LogError("No trainer at {Trainer}: build it with 'dotnet build trainer-container'. Training jobs stay queued.", trainer);
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { trainer, "job", "--watch" }) start.ArgumentList.Add(arg);
            // The child reads the same settings as this host, through the environment.
            foreach (var (key, value) in configuration.AsEnumerable())
                if (value is not null && (key == StorageNames.Connection || key.StartsWith("Pipeline:", StringComparison.Ordinal)))
                    start.Environment[key.Replace(":", "__")] = value;
            using var child = Process.Start(start)!;
            Current = child;
            Starts++;
            child.OutputDataReceived += (_, e) => { if (e.Data is not null) logger.LogInformation("trainer: {Line}", e.Data); };
            child.ErrorDataReceived += (_, e) => { if (e.Data is not null) logger.LogWarning("trainer: {Line}", e.Data); };
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();
            logger.LogInformation("Started the trainer job loop (pid {Pid})", child.Id);
            try { await child.WaitForExitAsync(stoppingToken); }
            catch (OperationCanceledException)
            {
                if (!child.HasExited) child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync(CancellationToken.None);
                break;
            }
            logger.LogWarning("The trainer exited with code {Code}; starting it again", child.ExitCode);
            await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    /// <summary>trainer-container/bin/&lt;configuration&gt;/net10.0/trainer.dll, the configuration being this host's own.</summary>
    private static string FindTrainer()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var configuration = here.Parent?.Name ?? "Debug";
        return Path.Combine(RepoRoot.Find(), "trainer-container", "bin", configuration, here.Name, "trainer.dll");
    }
}

public static class RepoRoot
{
    /// <summary>The checkout's root: the first folder up from here (or the working directory) holding Pipeline.sln.</summary>
    public static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the checkout (Pipeline.sln) above " + AppContext.BaseDirectory);
    }
}
