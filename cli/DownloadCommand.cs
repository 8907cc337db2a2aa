using System.CommandLine;
using Pipeline.Core.Contract;

namespace Pipeline.Cli;

/// <summary><c>pipeline download &lt;dataset&gt; --out &lt;dir&gt; [--version v]</c>: the model and its manifest, for
/// any ONNX runtime.</summary>
public static class DownloadCommand
{
    public static Command Create(CliOptions options)
    {
        var dataset = CliOptions.DatasetArgument();
        var output = new Option<string>("--out")
        {
            Description = "the folder to write them to", HelpName = "dir",
            Required = true
        };
        var version = new Option<string?>("--version")
        {
            Description = "a version (default: the promoted one)",
            HelpName = "v"
        };
        var command = new Command("download", "model.onnx and model.json of the promoted (or given) version") { dataset,
            output, version };
        command.SetAction((parse, ct) => options.RunAsync(parse, connection =>
            RunAsync(parse.GetValue(dataset)!, parse.GetValue(output)!, parse.GetValue(version), connection,
                options.Console, ct), ct));
        return command;
    }

    public static async Task<int> RunAsync(string dataset, string output, string? requested, Connection connection,
        CliConsole console, CancellationToken ct)
    {
        if (File.Exists(output)) throw new CliException(ExitCodes.Usage,
            $"'{output}' is a file; --out takes a folder.");

        var version = await connection.VersionAsync(dataset, requested, ct);
        Directory.CreateDirectory(output);
        foreach (var file in new[] { ModelFiles.Model, ModelFiles.Manifest })
        {
            var path = Path.GetFullPath(Path.Combine(output, file));
            await connection.DownloadAsync($"datasets/{dataset}/models/{version}/{file}", path, ct);
            console.Out.WriteLine(path);
        }
        console.Error.WriteLine($"Version {version}: input 'pixels' is N x 3 x 224 x 224, BGR, 0-255 (resized as " +
            $"model.json's preprocessing says); output 'probabilities' in model.json's label order.");
        return ExitCodes.Ok;
    }
}
