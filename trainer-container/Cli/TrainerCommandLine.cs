using System.CommandLine;
using System.CommandLine.Help;
using Pipeline.Trainer.Job;

namespace Pipeline.Trainer.Cli;

/// <summary><c>trainer train ...</c> and <c>trainer job [--watch]</c>: one definition gives parsing, help, defaults and
/// completion.</summary>
public static class TrainerCommandLine
{
    /// <summary>Bad arguments or options, as the training refusals.</summary>
    public const int Usage = 2;

    public static RootCommand Create() =>
        new("The pipeline's trainer: trains image classifiers from folders, or takes training jobs from the queue.")
    {
        FolderTrainCommand.Create(),
        JobCommand.Create(),
    };

    /// <summary>Runs the command; a parse error prints what was wrong and returns <see cref="Usage"/>.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        var parse = Create().Parse(args);
        if (parse.Action is not HelpAction && parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
            var command = parse.CommandResult.Command;
            var name = command is RootCommand ? "trainer" : "trainer " + command.Name;
            Console.Error.WriteLine($"Run '{name} --help' for the options.");
            return Usage;
        }
        // The process's own Ctrl+C and SIGTERM handling cancels ct; failures reach Program (cancellation is exit 130).
        var invocation = new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null
        };
        return await parse.InvokeAsync(invocation, ct);
    }
}
