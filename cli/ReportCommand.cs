using System.Diagnostics;
using Azure;
using Pipeline.Core.Contract;

namespace Pipeline.Cli;

/// <summary><c>pipeline report &lt;dataset&gt; [--version v] [--out file] [--open]</c>: saves a version's report.html (self-contained) and opens it.</summary>
public static class ReportCommand
{
    public static async Task<int> RunAsync(Arguments args, Connection connection, CliConsole console, CancellationToken ct)
    {
        var dataset = TrainCommand.Dataset(args.Required(0, "<dataset>"));
        var requested = args.Option("--version");
        var output = args.Option("--out");
        var open = args.Flag("--open");
        args.Done(1);

        var version = await connection.VersionAsync(dataset, requested, ct);
        var path = Path.GetFullPath(output ?? $"{dataset}-{version}-report.html");
        if (Path.GetDirectoryName(path) is { } folder && !Directory.Exists(folder)) throw new CliException(ExitCodes.Usage, $"There is no folder '{folder}' to save the report in.");
        try { await connection.Storage.Models.GetBlobClient($"{dataset}/{version}/{ModelFiles.Report}").DownloadToAsync(path, ct); }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new CliException(ExitCodes.NotFound, $"Version '{version}' of '{dataset}' has no report: it was trained before the trainer wrote reports.");
        }
        console.Out.WriteLine(path);
        if (open) Open(path, console);
        return ExitCodes.Ok;
    }

    private static void Open(string path, CliConsole console)
    {
        var opener = OperatingSystem.IsWindows() ? "explorer" : OperatingSystem.IsMacOS() ? "open" : "xdg-open";
        try { Process.Start(new ProcessStartInfo(opener, [path]) { UseShellExecute = false })?.Dispose(); }
        catch (System.ComponentModel.Win32Exception e) { console.Error.WriteLine($"warning: could not open it with {opener} ({e.Message}); open {path} in a browser."); }
    }
}
