using System.CommandLine;
using Pipeline.FashionMnist.Benchmarks;

var root = new RootCommand("Fashion-MNIST (Debian's dataset-fashion-mnist) through the pipeline: PNG folders, end " +
    "to end on the local host, the trainer alone at several sizes, and what settle, status and sweep cost")
{
    WriteCommand.Create(),
    E2eCommand.Create(),
    TrainerCommand.Create(),
    CostsCommand.Create(),
};
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Run 'fashion-mnist <command> --help' for the options.");
    return 2;
}
return await parse.InvokeAsync();
