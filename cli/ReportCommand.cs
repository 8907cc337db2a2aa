using System.CommandLine;
using System.Diagnostics;
using Pipeline.Core.Contract;

namespace Pipeline.Cli;

/// <summary><c>pipeline report &lt;dataset&gt; [--version v] [--out file] [--open]</c>: saves a version's report.html
/// (self-contained) and opens it.</summary>
public static class ReportCommand
{
    public static Command Create(CliOptions options)
    {
        var dataset = CliOptions.DatasetArgument();
        var version = new Option<string?>("--version")
        {
            Description = "a version (default: the promoted one)",
            HelpName = "v"
        };
        var output = new Option<string?>("--out")
        {
            Description = "where to save it [<dataset>-<version>-report.html]",
            HelpName = "file"
        };
        var open = new Option<bool>("--open") { Description = "open it in the browser" };
        var command = new Command("report", "Save a version's training report (HTML, opens offline) and open it")
        {
            dataset, version, output, open,
        };
        command.SetAction((parse, ct) => options.RunAsync(parse, connection => RunAsync(parse.GetValue(dataset)!,
            parse.GetValue(version),
            parse.GetValue(output), parse.GetValue(open), connection, options.Console, ct), ct));
        return command;
    }

    public static async Task<int> RunAsync(string dataset, string? requested, string? output, bool open,
        Connection connection,
        CliConsole console, CancellationToken ct)
    {

        var version = await connection.VersionAsync(dataset, requested, ct);
        var path = Path.GetFullPath(output ?? $"{dataset}-{version}-report.html");
        if (Path.GetDirectoryName(path) is { } folder
            && !Directory.Exists(folder)) throw new CliException(ExitCodes.Usage, $"There is no folder '{folder}' to " +
            $"save the report in.");
        try { await connection.DownloadAsync($"datasets/{dataset}/models/{version}/{ModelFiles.Report}", path, ct); }
        catch (CliException e) when (e.ExitCode == ExitCodes.NotFound)
        {
            throw new CliException(ExitCodes.NotFound,
                $"Version '{version}' of '{dataset}' has no report: it was trained before the trainer wrote reports.");
        }
        console.Out.WriteLine(path);
        if (open) Open(path, console);
        return ExitCodes.Ok;
    }

    private static void Open(string path, CliConsole console)
    {
        var opener = OperatingSystem.IsWindows() ? "explorer" : OperatingSystem.IsMacOS() ? "open" : "xdg-open";
        try { Process.Start(new ProcessStartInfo(opener, [path]) { UseShellExecute = false })?.Dispose(); }
        catch (System.ComponentModel.Win32Exception e)
        {
            console.Error.WriteLine($"warning: could not open it " +
            $"with {opener} ({e.Message}); open {path} in a browser.");
        }
    }
}
