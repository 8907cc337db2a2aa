using System.Runtime.InteropServices;

namespace Pipeline.Local;

/// <summary>
/// Gives memory back once scoring has gone quiet: a burst of requests leaves the GC's heaps and glibc's arenas at
/// their peak, and nothing runs afterwards that would shrink them. <see cref="IdleSeconds"/> after the last scoring
/// request of a burst, a full compacting collection (<see cref="GCCollectionMode.Aggressive"/>, which decommits what
/// it frees) and glibc's <c>malloc_trim</c> return the free memory to the system, once per burst.
/// </summary>
public sealed class IdleMemoryTrim(IConfiguration configuration, ILogger<IdleMemoryTrim> logger)
    : BackgroundService
{
    private long scored;
    private int IdleSeconds => configuration.GetValue("Local:TrimIdleSeconds", 20);

    /// <summary>A scoring request ended.</summary>
    public void Scored() => Interlocked.Increment(ref scored);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (IdleSeconds <= 0) return;
        var (seen, quietSince, trimmed) = (0L, DateTimeOffset.UtcNow, true);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Min(5, IdleSeconds)));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = Interlocked.Read(ref scored);
                if (now != seen) (seen, quietSince, trimmed) = (now, DateTimeOffset.UtcNow, false);
                else if (!trimmed && DateTimeOffset.UtcNow - quietSince >= TimeSpan.FromSeconds(IdleSeconds))
                {
                    Trim();
                    trimmed = true;
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private void Trim()
    {
        var before = Environment.WorkingSet;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var native = OperatingSystem.IsLinux() && TrimNative();
        logger.LogInformation("Scoring went quiet: memory trimmed from {Before} MB to {After} MB (glibc: {Native})",
            before >> 20, Environment.WorkingSet >> 20, native);
    }

    /// <summary>glibc's malloc_trim; false where the C library has none (musl).</summary>
    private static bool TrimNative()
    {
        try { return MallocTrim(0) != 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
