using System.Diagnostics;

namespace Pipeline.Scoring.Benchmarks;

/// <summary>The host's resident memory every few seconds, with how many requests had been answered by then.</summary>
public sealed class MemorySamples
{
    public sealed record Sample(double Seconds, double Megabytes, int Completed);
    public sealed record Marker(string Name, double Seconds, int Completed, double Megabytes);

    private readonly HostProcess host;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly List<Sample> samples = [];
    private readonly List<Marker> markers = [];
    private readonly Timer timer;
    private int completed;

    public MemorySamples(HostProcess host, double everySeconds)
    {
        this.host = host;
        timer = new Timer(_ => Take(), null, TimeSpan.Zero, TimeSpan.FromSeconds(everySeconds));
    }

    public IReadOnlyList<Sample> Samples { get { lock (samples) return [.. samples]; } }
    public IReadOnlyList<Marker> Markers => markers;

    public void Completed() => Interlocked.Increment(ref completed);

    public Marker Mark(string name)
    {
        var marker = new Marker(name, clock.Elapsed.TotalSeconds, completed, host.ResidentMegabytes());
        markers.Add(marker);
        return marker;
    }

    public void Stop()
    {
        timer.Dispose();
        Take();
    }

    private void Take()
    {
        var sample = new Sample(clock.Elapsed.TotalSeconds, host.ResidentMegabytes(), Volatile.Read(ref completed));
        lock (samples) samples.Add(sample);
    }

    /// <summary>Memory at the start of the load, over its first and last thousand requests, at its end and
    /// after.</summary>
    public string Summary(Marker load, Marker end, double afterSeconds)
    {
        var all = Samples;
        var during = all.Where(s => s.Seconds >= load.Seconds && s.Seconds <= end.Seconds).ToList();
        var total = end.Completed - load.Completed;
        double Mean(Func<Sample, bool> which) =>
            during.Where(which).Select(s => s.Megabytes).DefaultIfEmpty(double.NaN).Average();
        var first = Mean(s => s.Completed - load.Completed <= Math.Min(1000, total / 2));
        var last = Mean(s => s.Completed - load.Completed >= total - Math.Min(1000, total / 2));
        var peak = during.Select(s => s.Megabytes).DefaultIfEmpty(double.NaN).Max();
        var final = all[^1].Megabytes;
        var lines = new List<string>
        {
            $"Host resident memory (MB): {load.Megabytes:0} at the start of the load; mean {first:0} over the first " +
                $"and {last:0} over the last {Math.Min(1000, total / 2)} requests " +
                $"({100 * (last - first) / first:+0.0;-0.0} %);" +
                $" peak {peak:0}; {end.Megabytes:0} at the end of the load",
        };
        if (afterSeconds > 0)
            lines.Add($"{final:0} MB {afterSeconds:0} s after the load ended: " +
                $"{100 * (final - load.Megabytes) / load.Megabytes:+0.0;-0.0} % against the start");
        return string.Join(Environment.NewLine, lines);
    }
}
