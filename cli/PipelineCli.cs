using Azure;
using Azure.Identity;

namespace Pipeline.Cli;

/// <summary>The command line's entry: picks the command, turns every failure into a message and an exit code.</summary>
public static class PipelineCli
{
    public const string Help = """
        Usage: pipeline <command> [arguments] [options]

        Commands:
          upload <folder> --dataset <name>     upload a folder of label folders (or train/ and test/ holding them)
                 [--parallel <n>]             uploads at once [8]; what is already uploaded (same SHA-256) is skipped
          train <dataset> [--fast] [--options <file.json>] [--watch]
                                               ask for a training run (options as in train.json); --watch follows it
          status <dataset> [--watch]           images, rejected files, the training job (stage, epoch, metrics), the model
          status                               every dataset, storage problems, uploads under an invalid dataset name
          models <dataset>                     model versions with their test metrics; * marks the promoted one
          score <image|folder> --dataset <name> [--top <k>]
                                               score images with the promoted model: a table, or --json
          report <dataset> [--version <v>] [--out <file>] [--open]
                                               save a version's training report (HTML, opens offline) and open it
          download <dataset> --out <dir> [--version <v>]
                                               model.onnx and model.json of the promoted (or given) version

        Where (every command):
          --account <name>                     an Azure storage account, signed in with Entra ID (az login, or any
                                               DefaultAzureCredential source); default: the local Azurite
          --connection-string <string>         a storage connection string instead (or PIPELINE_STORAGE)
          --api <url>                          the HTTP API [http://127.0.0.1:7071/api] (or PIPELINE_API)
          --key <key>                          the function key the API needs in Azure (or PIPELINE_API_KEY)
          --json                               print JSON instead of tables (status, models, score)

        Exit codes: 0 done; 1 failed (training failed, the API refused an image); 2 bad arguments or path;
        3 storage or API unreachable, or access refused; 4 no such dataset, version, model or report; 130 stopped (Ctrl+C).
        """;

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken ct)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            (args.Length == 0 ? console.Error : console.Out).WriteLine(Help);
            return args.Length == 0 ? ExitCodes.Usage : ExitCodes.Ok;
        }
        if (args.Skip(1).Any(a => a is "--help" or "-h")) { console.Out.WriteLine(Help); return ExitCodes.Ok; }

        Connection? connection = null;
        try
        {
            var arguments = new Arguments(args[1..], "--watch", "--fast", "--open", "--json");
            connection = Connection.From(arguments);
            return args[0] switch
            {
                "upload" => await UploadCommand.RunAsync(arguments, connection, console, ct),
                "train" => await TrainCommand.RunAsync(arguments, connection, console, ct),
                "status" => await StatusCommand.RunAsync(arguments, connection, console, ct),
                "models" => await ModelsCommand.RunAsync(arguments, connection, console, ct),
                "score" => await ScoreCommand.RunAsync(arguments, connection, console, ct),
                "report" => await ReportCommand.RunAsync(arguments, connection, console, ct),
                "download" => await DownloadCommand.RunAsync(arguments, connection, console, ct),
                _ => throw new CliException(ExitCodes.Usage, $"Unknown command '{args[0]}'."),
            };
        }
        catch (CliException e) { return Fail(console, e.ExitCode, e.Message, e.ExitCode == ExitCodes.Usage); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { return Fail(console, ExitCodes.Interrupted, "Stopped."); }
        catch (Exception e) when (Unreachable(e) is { } cause)
        {
            return Fail(console, ExitCodes.Unreachable, $"Cannot reach {connection!.StorageName}: {FirstLine(cause.Message)}. {connection.StorageHint}");
        }
        catch (RequestFailedException e) when (e.Status is 401 or 403)
        {
            return Fail(console, ExitCodes.Unreachable, $"{connection!.StorageName} refused access ({e.Status} {e.ErrorCode}). {connection.StorageHint}");
        }
        catch (AuthenticationFailedException e)
        {
            return Fail(console, ExitCodes.Unreachable, $"Could not sign in to Azure: {FirstLine(e.Message)} Run 'az login' (or set up another DefaultAzureCredential source).");
        }
        finally { connection?.Dispose(); }
    }

    private static int Fail(CliConsole console, int code, string message, bool usage = false)
    {
        console.Error.WriteLine($"error: {message}");
        if (usage) console.Error.WriteLine("Run 'pipeline --help' for the commands and options.");
        return code;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    /// <summary>A storage call that never got an answer (after the SDK's retries, which it reports as an AggregateException).</summary>
    private static Exception? Unreachable(Exception e) => e switch
    {
        RequestFailedException { Status: 0 } or RequestFailedException { InnerException: HttpRequestException } => e.InnerException ?? e,
        AggregateException a when a.InnerExceptions.Count > 0 && a.InnerExceptions.All(i => Unreachable(i) is not null) => Unreachable(a.InnerExceptions[^1]),
        _ => null,
    };
}
