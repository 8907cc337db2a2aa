using Pipeline.Core.Contract;

namespace Pipeline.Cli;

/// <summary><c>pipeline download &lt;dataset&gt; --out &lt;dir&gt; [--version v]</c>: the model and its manifest, for any ONNX runtime.</summary>
public static class DownloadCommand
{
    public static async Task<int> RunAsync(Arguments args, Connection connection, CliConsole console, CancellationToken ct)
    {
        var dataset = TrainCommand.Dataset(args.Required(0, "<dataset>"));
        var output = args.RequiredOption("--out", "dir");
        var requested = args.Option("--version");
        args.Done(1);
        if (File.Exists(output)) throw new CliException(ExitCodes.Usage, $"'{output}' is a file; --out takes a folder.");

        var version = await connection.VersionAsync(dataset, requested, ct);
        Directory.CreateDirectory(output);
        foreach (var file in new[] { ModelFiles.Model, ModelFiles.Manifest })
        {
            var path = Path.GetFullPath(Path.Combine(output, file));
            await connection.Storage.Models.GetBlobClient($"{dataset}/{version}/{file}").DownloadToAsync(path, ct);
            console.Out.WriteLine(path);
        }
        console.Error.WriteLine($"Version {version}: input 'pixels' is N x 3 x 224 x 224, BGR, 0-255 (resized as model.json's preprocessing says); output 'probabilities' in model.json's label order.");
        return ExitCodes.Ok;
    }
}
