using System.CommandLine;
using Pipeline.Scoring.Benchmarks;

var root = new RootCommand("Measures scoring: ONNX Runtime sessions in process, and the local host under HTTP load")
{
    SessionCommand.Create(),
    LoadCommand.Create(),
};
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Run 'scoring-benchmarks <command> --help' for the options.");
    return 2;
}
return await parse.InvokeAsync();
