using System.Collections.Concurrent;

namespace Pipeline.FashionMnist.Benchmarks;

/// <summary>
/// Memory and CPU of processes and their descendants, read from /proc every half second: each process gets a role
/// (its root's, or "azurite" / "trainer" from its command line), and each role's figures are the largest sum of
/// resident memory (VmRSS) its processes held at one sample, the largest peak (VmHWM) one of them reported, and the
/// CPU seconds they used (user and system, as last read).
/// </summary>
public sealed class ProcessWatch : IDisposable
{
    public sealed record Figures(double PeakRssMB, double PeakHwmMB, double CpuSeconds, int Processes);

    private sealed class Seen
    {
        public required string Role { get; init; }
        public double HwmMB;
        public double CpuSeconds;
    }

    private readonly ConcurrentDictionary<int, string> roots = new();
    private readonly ConcurrentDictionary<int, Seen> seen = new();
    private readonly ConcurrentDictionary<string, double> peakRss = new();
    private readonly Timer timer;
    private readonly object gate = new();
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public ProcessWatch(TimeSpan? every = null)
    {
        var period = every ?? TimeSpan.FromMilliseconds(500);
        timer = new Timer(_ => Sample(), null, period, period);
    }

    /// <summary>Watches <paramref name="pid"/> and whatever it starts under <paramref name="role"/>.</summary>
    public void Add(int pid, string role)
    {
        roots[pid] = role;
        Sample();
    }

    /// <summary>The figures of every role seen so far (a last sample taken first).</summary>
    public IReadOnlyDictionary<string, Figures> Summary()
    {
        Sample();
        lock (gate)
            return seen.Values.GroupBy(s => s.Role).ToDictionary(g => g.Key, g => new Figures(
                Math.Round(peakRss.GetValueOrDefault(g.Key), 1), Math.Round(g.Max(s => s.HwmMB), 1),
                Math.Round(g.Sum(s => s.CpuSeconds), 1), g.Count()));
    }

    public void Dispose() => timer.Dispose();

    private void Sample()
    {
        if (!OperatingSystem.IsLinux()) return;
        lock (gate)
        {
            var parents = new Dictionary<int, int>();
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
                if (int.TryParse(Path.GetFileName(dir), out var pid) && Stat(pid) is { } stat)
                    parents[pid] = stat.Parent;
            var rss = new Dictionary<string, double>();
            foreach (var pid in parents.Keys)
            {
                if (RoleOf(pid, parents) is not { } role) continue;
                if (Stat(pid) is not { } stat || Status(pid) is not { } status) continue;
                var one = seen.GetOrAdd(pid, _ => new Seen { Role = role });
                one.HwmMB = Math.Max(one.HwmMB, status.HwmMB);
                one.CpuSeconds = Math.Max(one.CpuSeconds, stat.CpuTicks / TicksPerSecond);
                rss[one.Role] = rss.GetValueOrDefault(one.Role) + status.RssMB;
            }
            foreach (var (role, mb) in rss) peakRss[role] = Math.Max(peakRss.GetValueOrDefault(role), mb);
        }
    }

    /// <summary>A watched root's role; below it, "azurite" or "trainer" by the command line, else the
    /// parent's.</summary>
    private string? RoleOf(int pid, IReadOnlyDictionary<int, int> parents)
    {
        if (seen.TryGetValue(pid, out var known)) return known.Role;
        if (roots.TryGetValue(pid, out var root)) return root;
        var chain = new List<int>();
        for (var p = pid; p > 1 && parents.TryGetValue(p, out var parent) && chain.Count < 64; p = parent)
        {
            chain.Add(p);
            if (roots.ContainsKey(p) || seen.ContainsKey(p)) break;
        }
        if (chain.Count == 0) return null;
        var top = chain[^1];
        var inherited = roots.TryGetValue(top, out var r) ? r : seen.TryGetValue(top, out var s) ? s.Role : null;
        if (inherited is null) return null;
        var command = CommandLine(pid);
        if (command.Contains("azurite", StringComparison.OrdinalIgnoreCase)) return "azurite";
        if (command.Contains("trainer.dll", StringComparison.Ordinal)) return "trainer";
        return inherited;
    }

    private static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    private static (int Parent, long CpuTicks)? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // After the command name in parentheses: state ppid ... utime (14th field) stime (15th).
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return (int.Parse(fields[1]), long.Parse(fields[11]) + long.Parse(fields[12]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException
            or IndexOutOfRangeException or ArgumentOutOfRangeException)
        { return null; }
    }

    private static (double RssMB, double HwmMB)? Status(int pid)
    {
        try
        {
            double rss = 0, hwm = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line) / 1024.0;
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kb(line) / 1024.0;
            }
            return (rss, hwm);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static long Kb(string line) =>
        long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]);
}
