using System.CommandLine;
using System.CommandLine.Help;

namespace Pipeline.Cli;

/// <summary>
/// The command line's entry: one System.CommandLine definition gives parsing, help, defaults, validation and tab
/// completion; a bad argument is exit code 2, and every failure inside a command becomes a message and its exit code.
/// </summary>
public static class PipelineCli
{
    private const string Description = """
        Upload folders of images, train, watch, score and fetch image classifiers of the pipeline, locally (Azurite)
        or in Azure.

        Exit codes: 0 done; 1 failed (training failed, the API refused an image); 2 bad arguments or path;
        3 storage or API unreachable, or access refused; 4 no such dataset, version, model or report;
        130 stopped (Ctrl+C).
        """;

    public static RootCommand Create(CliOptions options)
    {
        var root = new RootCommand(Description);
        options.AddTo(root);
        foreach (var command in new[]
        {
            UploadCommand.Create(options), TrainCommand.Create(options), StatusCommand.Create(options),
            ModelsCommand.Create(options), PublishCommand.Create(options), PublishCommand.CreateUnpublish(options),
            PredictionsCommand.Create(options), PredictionsCommand.CreateLabel(options), ImportCommand.Create(options),
            ScoreCommand.Create(options), ReportCommand.Create(options), DownloadCommand.Create(options),
        })
            root.Subcommands.Add(command);
        return root;
    }

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken ct)
    {
        var options = new CliOptions(console);
        var parse = Create(options).Parse(args);
        if (parse.Action is not HelpAction && parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) console.Error.WriteLine($"error: {error.Message}");
            var command = parse.CommandResult.Command;
            var name = command is RootCommand ? "pipeline" : "pipeline " + command.Name;
            console.Error.WriteLine($"Run '{name} --help' for the options.");
            return ExitCodes.Usage;
        }
        // Ctrl+C is the caller's (Program.cs): it cancels ct, and the command says how far it got.
        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        return await parse.InvokeAsync(invocation, ct);
    }
}
