using System.Globalization;
using ScottPlot;

namespace Pipeline.Scoring.Benchmarks;

/// <summary>The memory samples as a PNG (and CSV beside it), the load's start and end marked.</summary>
public static class MemoryPlot
{
    public static void Write(MemorySamples memory, string file, string title)
    {
        // The trainer's shipped font: SkiaSharp's no-dependency natives find no system fonts.
        var font = Path.Combine(Arguments.RepoRoot(), "trainer-container", "Report", "fonts", "DejaVuSans.ttf");
        var plot = new Plot();
        if (File.Exists(font))
        {
            Fonts.AddFontFile("DejaVu Sans", font, bold: false, italic: false);
            plot.Font.Set("DejaVu Sans");
        }
        var samples = memory.Samples;
        var line = plot.Add.Scatter(samples.Select(s => s.Seconds).ToArray(),
            samples.Select(s => s.Megabytes).ToArray());
        line.LineWidth = 2;
        line.MarkerSize = 3;
        line.LegendText = "resident memory (MB)";
        foreach (var marker in memory.Markers)
        {
            var mark = plot.Add.VerticalLine(marker.Seconds, 1, Colors.Gray, LinePattern.Dashed);
            mark.Text = marker.Name;
            mark.LabelOppositeAxis = true;
        }
        plot.Title(title);
        plot.XLabel("seconds");
        plot.YLabel("MB");
        plot.Axes.SetLimitsY(0, samples.Max(s => s.Megabytes) * 1.1);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        plot.SavePng(file, 900, 420);
        File.WriteAllLines(Path.ChangeExtension(file, ".csv"), ["seconds,megabytes,completed", .. samples.Select(s =>
            string.Create(CultureInfo.InvariantCulture, $"{s.Seconds:0.0},{s.Megabytes:0.0},{s.Completed}"))]);
    }
}
