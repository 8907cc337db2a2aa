namespace Pipeline.Cli;

/// <summary>Upload progress on the error stream: one redrawn line on a terminal, otherwise a line per tenth of the
/// way.</summary>
public sealed class ProgressBar(CliConsole console, int total)
{
    private readonly Lock gate = new();
    private int lastTenth = -1;
    private DateTime lastDraw = DateTime.MinValue;
    private string last = "";

    public void Advance(int uploaded, int skipped, int refused, long bytes)
    {
        lock (gate)
        {
            var done = uploaded + skipped + refused;
            var line = $"{done}/{total} files: {uploaded} uploaded ({bytes / 1048576.0:0.0} MB), "
                + $"{skipped} already there, {refused} refused";
            if (console.Interactive)
            {
                if (DateTime.UtcNow - lastDraw < TimeSpan.FromMilliseconds(100) && done < total) return;
                lastDraw = DateTime.UtcNow;
                const int width = 30;
                var filled = total == 0 ? width : done * width / total;
                last = $"\r[{new string('#', filled)}{new string('.', width - filled)}] {line}";
                console.Error.Write(last);
                return;
            }
            var tenth = total == 0 ? 10 : done * 10 / total;
            if (tenth == lastTenth) return;
            lastTenth = tenth;
            console.Error.WriteLine(line);
        }
    }

    public void Finish()
    {
        lock (gate) if (console.Interactive && last.Length > 0) console.Error.WriteLine();
    }
}
