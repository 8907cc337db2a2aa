using System.Globalization;
using System.Net;
using System.Text;

namespace Pipeline.FashionMnist.Benchmarks;

/// <summary>Line plots as SVG, side by side, written by hand: no plotting package, no fonts to find.</summary>
public static class SvgPlot
{
    /// <param name="Colour">The series' colour by number: a reference line takes its measured line's.</param>
    public sealed record Series(string Name, IReadOnlyList<(double X, double Y)> Points, int Colour,
        bool Dashed = false);

    /// <param name="Limit">A horizontal line (a target), with its label.</param>
    public sealed record Panel(string Title, string XLabel, string YLabel, IReadOnlyList<Series> Series,
        (double Y, string Label)? Limit = null);

    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
    private const int Width = 460, Height = 340, Left = 70, Right = 20, Top = 40, Bottom = 50;

    public static void Write(string file, string title, IReadOnlyList<Panel> panels)
    {
        var svg = new StringBuilder();
        var total = Width * panels.Count;
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total}\" height=\"{Height + 30}\" "))
            .Append("font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n")
            .Append(Invariant($"<rect width=\"{total}\" height=\"{Height + 30}\" fill=\"white\"/>\n"))
            .Append(Invariant($"<text x=\"{total / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">"))
            .Append(WebUtility.HtmlEncode(title)).Append("</text>\n");
        for (var i = 0; i < panels.Count; i++) WritePanel(svg, panels[i], i * Width, 30);
        svg.Append("</svg>\n");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        File.WriteAllText(file, svg.ToString());
    }

    private static void WritePanel(StringBuilder svg, Panel panel, int x0, int y0)
    {
        var points = panel.Series.SelectMany(s => s.Points).ToList();
        var maxX = Nice(points.Select(p => p.X).DefaultIfEmpty(1).Max());
        var maxY = Nice(Math.Max(points.Select(p => p.Y).DefaultIfEmpty(1).Max(), panel.Limit?.Y * 1.05 ?? 0));
        var (w, h) = (Width - Left - Right, Height - Top - Bottom);
        double X(double x) => x0 + Left + x / maxX * w;
        double Y(double y) => y0 + Top + h - y / maxY * h;
        svg.Append(Invariant($"<text x=\"{x0 + Width / 2}\" y=\"{y0 + 20}\" text-anchor=\"middle\">"))
            .Append(WebUtility.HtmlEncode(panel.Title)).Append("</text>\n");
        for (var t = 0; t <= 5; t++)
        {
            var (vx, vy) = (maxX * t / 5, maxY * t / 5);
            svg.Append(Invariant($"<line x1=\"{X(0)}\" y1=\"{Y(vy)}\" x2=\"{X(maxX)}\" y2=\"{Y(vy)}\" "))
                .Append("stroke=\"#ddd\"/>\n")
                .Append(Invariant($"<text x=\"{X(0) - 6}\" y=\"{Y(vy) + 4}\" text-anchor=\"end\">{vy:0.##}</text>\n"))
                .Append(Invariant($"<text x=\"{X(vx)}\" y=\"{Y(0) + 16}\" text-anchor=\"middle\">{vx:0.##}</text>\n"));
        }
        svg.Append(Invariant($"<line x1=\"{X(0)}\" y1=\"{Y(0)}\" x2=\"{X(maxX)}\" y2=\"{Y(0)}\" stroke=\"black\"/>\n"))
            .Append(Invariant($"<line x1=\"{X(0)}\" y1=\"{Y(0)}\" x2=\"{X(0)}\" y2=\"{Y(maxY)}\" stroke=\"black\"/>\n"))
            .Append(Invariant($"<text x=\"{X(maxX / 2)}\" y=\"{Y(0) + 36}\" text-anchor=\"middle\">"))
            .Append(WebUtility.HtmlEncode(panel.XLabel)).Append("</text>\n")
            .Append(Invariant($"<text transform=\"translate({x0 + 16},{Y(maxY / 2)}) rotate(-90)\" "))
            .Append("text-anchor=\"middle\">").Append(WebUtility.HtmlEncode(panel.YLabel)).Append("</text>\n");
        if (panel.Limit is { } limit)
            svg.Append(Invariant($"<line x1=\"{X(0)}\" y1=\"{Y(limit.Y)}\" x2=\"{X(maxX)}\" y2=\"{Y(limit.Y)}\" "))
                .Append("stroke=\"#888\" stroke-dasharray=\"2,3\"/>\n")
                .Append(Invariant($"<text x=\"{X(maxX) - 4}\" y=\"{Y(limit.Y) - 4}\" text-anchor=\"end\" "))
                .Append("fill=\"#666\">").Append(WebUtility.HtmlEncode(limit.Label)).Append("</text>\n");
        for (var i = 0; i < panel.Series.Count; i++)
        {
            var series = panel.Series[i];
            var colour = Colours[series.Colour % Colours.Length];
            var path = string.Join(" ", series.Points.OrderBy(p => p.X)
                .Select(p => Invariant($"{X(p.X):0.#},{Y(p.Y):0.#}")));
            svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{path}\""))
                .Append(series.Dashed ? " stroke-dasharray=\"6,4\"/>\n" : "/>\n");
            foreach (var p in series.Points)
                svg.Append(Invariant($"<circle cx=\"{X(p.X):0.#}\" cy=\"{Y(p.Y):0.#}\" r=\"3\" fill=\"{colour}\"/>\n"));
            svg.Append(Invariant($"<text x=\"{X(0) + 8}\" y=\"{y0 + Top + 14 + 15 * i}\" fill=\"{colour}\">"))
                .Append(WebUtility.HtmlEncode(series.Name)).Append("</text>\n");
        }
    }

    /// <summary>The axis' end: a round number (1 to 8 times a power of ten) at or above
    /// <paramref name="value"/>.</summary>
    private static double Nice(double value)
    {
        if (value <= 0) return 1;
        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 })
            if (step * power >= value) return step * power;
        return 10 * power;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
