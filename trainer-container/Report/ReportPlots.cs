using Pipeline.Core.Contract;
using ScottPlot;

namespace Pipeline.Trainer.Report;

/// <summary>The report's plots as PNG bytes: learning curves and the confusion matrix as a heat map with
/// counts.</summary>
public static class ReportPlots
{
    private static readonly Color TrainColor = new(31, 119, 180);
    private static readonly Color ValidationColor = new(255, 127, 14);
    private static readonly Color BestColor = new(214, 39, 40);

    /// <summary>One panel of loss or accuracy per epoch across both stages; the stage change and each stage's best
    /// epoch marked.</summary>
    public static byte[] LearningCurve(
        IReadOnlyList<EpochRecord> history, bool accuracy, int width = 560, int height = 360)
    {
        ReportFonts.EnsureLoaded();
        var plot = new Plot();
        ReportFonts.Apply(plot);
        // Epochs count on across stages, so fine-tuning follows the head stage on one axis.
        var xs = Enumerable.Range(1, history.Count).Select(i => (double)i).ToArray();
        double Train(EpochRecord e) => accuracy ? e.TrainAccuracy : e.TrainLoss;
        double Validation(EpochRecord e) => accuracy ? e.ValidationAccuracy : e.ValidationLoss;

        var train = plot.Add.Scatter(xs, history.Select(Train).ToArray(), TrainColor);
        train.LegendText = "train";
        train.LineWidth = 2;
        train.MarkerSize = history.Count > 30 ? 0 : 4;
        var validation = plot.Add.Scatter(xs, history.Select(Validation).ToArray(), ValidationColor);
        validation.LegendText = "validation";
        validation.LineWidth = 2;
        validation.MarkerSize = history.Count > 30 ? 0 : 4;

        for (var i = 1; i < history.Count; i++)
            if (history[i].Stage != history[i - 1].Stage)
            {
                var change = plot.Add.VerticalLine(i + 0.5, 1, Colors.Gray, LinePattern.Dashed);
                change.Text = history[i].Stage;
                change.LabelOppositeAxis = true;
            }
        var bestShown = false;
        for (var i = 0; i < history.Count; i++)
        {
            if (!history[i].Best) continue;
            var marker = plot.Add.Marker(xs[i], Validation(history[i]), MarkerShape.OpenCircle, 16, BestColor);
            marker.MarkerLineWidth = 2.5f;
            if (!bestShown) marker.LegendText = "best epoch (kept)";
            bestShown = true;
        }

        plot.Title(accuracy ? "Accuracy per epoch" : "Loss per epoch");
        plot.XLabel(history.Select(h => h.Stage).Distinct().Count() > 1
            ? "epoch (head stage, then fine-tuning)"
            : "epoch (head stage; no fine-tuning)");
        plot.YLabel(accuracy ? "accuracy" : "loss");
        // Accuracy near 1 all along would be a flat line against 0-1: zoom to the range it moved in.
        if (accuracy)
            plot.Axes.SetLimitsY(
                Math.Max(0, history.Min(h => Math.Min(h.TrainAccuracy, h.ValidationAccuracy)) - 0.05), 1.02);
        // Below the plot, where it cannot hide a curve.
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.Orientation = Orientation.Horizontal;
        return plot.GetImageBytes(width, height + 30, ImageFormat.Png);
    }

    /// <summary>Rows are true labels, columns predicted; colour is the share of the row (so small labels show as
    /// clearly as large ones), text the count.</summary>
    public static byte[] ConfusionMatrix(IReadOnlyList<string> labels, IReadOnlyList<IReadOnlyList<int>> matrix)
    {
        ReportFonts.EnsureLoaded();
        var n = labels.Count;
        var plot = new Plot();
        ReportFonts.Apply(plot);
        var colormap = new ScottPlot.Colormaps.Blues();
        var fontSize = n <= 8 ? 16 : n <= 20 ? 11 : 0;
        for (var row = 0; row < n; row++)
        {
            var total = Math.Max(1, matrix[row].Sum());
            for (var col = 0; col < n; col++)
            {
                var share = (double)matrix[row][col] / total;
                // Row 0 at the top, as in a table.
                var y = n - 1 - row;
                var cell = plot.Add.Rectangle(col - 0.5, col + 0.5, y - 0.5, y + 0.5);
                // ScottPlot's Blues runs from dark to light: a full row share is dark, an empty cell nearly white.
                cell.FillStyle.Color = colormap.GetColor(0.97 - 0.9 * share);
                cell.LineStyle.Color = Colors.White;
                cell.LineStyle.Width = 1;
                if (fontSize == 0) continue;
                var text = plot.Add.Text($"{matrix[row][col]}", col, y);
                text.LabelFontSize = fontSize;
                text.LabelBold = row == col;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = share > 0.5 ? Colors.White : Colors.Black;
            }
        }
        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var shown = labels.Select(l => l.Length > 18 ? l[..17] + "…" : l).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, shown);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, shown.Reverse().ToArray());
        plot.Axes.Bottom.TickLabelStyle.FontSize = n <= 8 ? 15 : 12;
        plot.Axes.Left.TickLabelStyle.FontSize = n <= 8 ? 15 : 12;
        if (n > 4)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        }
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.HideGrid();
        plot.Title("Confusion matrix (test split)");
        plot.XLabel("predicted label");
        plot.YLabel("true label");
        var side = Math.Clamp(160 + 70 * n, 440, 1100);
        return plot.GetImageBytes(side + 80, side, ImageFormat.Png);
    }
}
