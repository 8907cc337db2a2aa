using System.CommandLine;
using Pipeline.Trainer.Benchmarks;

var root = new RootCommand("Measures the trainer against the standard ML.NET route on the shared datasets")
{
    BenchmarkRun.CreateCommand(),
    Summary.CreateCommand(),
    DatasetSplit.CreateCommand(),
    MlNetRoute.CreateCommand(),
    CustomVisionChecks.MultilabelCommand(),
    CustomVisionChecks.NegativeCommand(),
};
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    // Bad input: what was wrong and where to look, exit code 2, no stack trace and no page of help.
    foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
    var command = parse.CommandResult.Command == root ? "" : parse.CommandResult.Command.Name + " ";
    Console.Error.WriteLine($"Run 'trainer-benchmarks {command}--help' for the options.");
    return 2;
}
try
{
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine("Run 'trainer-benchmarks --help' for the commands.");
    return 2;
}

namespace Pipeline.Trainer.Benchmarks
{
    /// <summary>
    /// Bad command-line input found after parsing (a missing dataset, an unknown setting): a message and exit code 2.
    /// </summary>
    public sealed class UsageException(string message) : Exception(message);
}
