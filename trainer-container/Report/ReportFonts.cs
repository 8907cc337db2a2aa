using ScottPlot;

namespace Pipeline.Trainer.Report;

/// <summary>
/// The plots' font, shipped beside the trainer (DejaVu Sans, fonts/): the trainer's image and a fresh machine may have
/// no
/// fonts at all, and SkiaSharp's no-dependency natives do not ask fontconfig, so text would otherwise be blank.
/// </summary>
public static class ReportFonts
{
    public const string Family = "DejaVu Sans";
    private static readonly Lazy<bool> Loaded = new(Load);

    public static bool EnsureLoaded() => Loaded.Value;

    public static void Apply(Plot plot)
    {
        if (Loaded.Value) plot.Font.Set(Family);
    }

    private static bool Load()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "fonts");
        var regular = Path.Combine(folder, "DejaVuSans.ttf");
        if (!File.Exists(regular)) return false;
        Fonts.AddFontFile(Family, regular, bold: false, italic: false);
        var bold = Path.Combine(folder, "DejaVuSans-Bold.ttf");
        if (File.Exists(bold)) Fonts.AddFontFile(Family, bold, bold: true, italic: false);
        return true;
    }
}
