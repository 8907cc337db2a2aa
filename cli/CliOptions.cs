using System.CommandLine;
using Azure;
using Azure.Identity;
using Pipeline.Core.Contract;

namespace Pipeline.Cli;

/// <summary> The options every command takes (where the pipeline is, and --json), the dataset argument as every command
/// checks it, and the one place that turns a command's failure into a message and an exit code.
/// </summary>
public sealed class CliOptions(CliConsole console)
{
    public Option<string?> Account { get; } = new("--account")
    {
        Description = "an Azure storage account, signed in with Entra ID (az login, or any DefaultAzureCredential " +
            "source); " +
            "default: the local Azurite",
        HelpName = "name", Recursive = true,
    };
    public Option<string?> ConnectionString { get; } = new("--connection-string")
    {
        Description = "a storage connection string instead (or " +
            "PIPELINE_STORAGE)", HelpName = "string", Recursive = true,
    };
    public Option<string?> Api { get; } = new("--api")
    {
        Description = $"the HTTP API [{Connection.DefaultApi}] (or PIPELINE_API)", HelpName = "url", Recursive = true,
    };
    public Option<string?> Key { get; } = new("--key")
    {
        Description = "the function key the API needs in Azure (or " +
            "PIPELINE_API_KEY)", HelpName = "key", Recursive = true,
    };
    public Option<bool> Json { get; } = new("--json")
    {
        Description = "print JSON instead of tables (status, models, " +
        "score, train)", Recursive = true
    };

    public CliConsole Console => console;

    public void AddTo(RootCommand root)
    {
        foreach (var option in new Option[] { Account, ConnectionString, Api, Key, Json }) root.Options.Add(option);
    }

    /// <summary>A dataset name, checked while parsing (a bad one is a usage error, exit 2).</summary>
    public static Argument<string> DatasetArgument() =>
        WithNameCheck(new Argument<string>("dataset") { Description = "the dataset's name" });

    public static Option<string> DatasetOption()
    {
        var option = new Option<string>("--dataset")
        {
            Description = "the dataset's name", HelpName = "name",
            Required = true
        };
        option.Validators.Add(r =>
            { if (Names.CheckDataset(r.GetValueOrDefault<string>()) is { } problem) r.AddError(problem); });
        return option;
    }

    /// <summary>A whole number of at least <paramref name="min"/>, <paramref name="fallback"/> when not
    /// given.</summary>
    public static Option<int> AtLeast(string name, int min, int fallback, string description)
    {
        var option = new Option<int>(name)
        {
            Description = description, HelpName = "n",
            DefaultValueFactory = _ => fallback
        };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < min) r.AddError($"{name} takes a whole number of at least {min}, " +
                $"not {r.GetValueOrDefault<int>()}.");
        });
        return option;
    }

    private static Argument<string> WithNameCheck(Argument<string> argument)
    {
        argument.Validators.Add(r =>
            { if (Names.CheckDataset(r.GetValueOrDefault<string>()) is { } problem) r.AddError(problem); });
        return argument;
    }

    /// <summary>Runs <paramref name="command"/> with a connection made from the options; every failure becomes its exit
    /// code.</summary>
    public async Task<int> RunAsync(ParseResult parse, Func<Connection, Task<int>> command, CancellationToken ct)
    {
        Connection? connection = null;
        try
        {
            connection = Connection.From(parse.GetValue(Account), parse.GetValue(ConnectionString), parse.GetValue(Api),
                parse.GetValue(Key));
            return await command(connection);
        }
        catch (CliException e) { return Fail(e.ExitCode, e.Message, e.ExitCode == ExitCodes.Usage); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Fail(ExitCodes.Interrupted,
            "Stopped.");
        }
        catch (Exception e) when (Unreachable(e) is { } cause)
        {
            return Fail(ExitCodes.Unreachable,
                $"Cannot reach {connection!.StorageName}: {FirstLine(cause.Message)}. {connection.StorageHint}");
        }
        catch (RequestFailedException e) when (e.Status is 401 or 403)
        {
            return Fail(ExitCodes.Unreachable,
                $"{connection!.StorageName} refused access ({e.Status} {e.ErrorCode}). {connection.StorageHint}");
        }
        catch (AuthenticationFailedException e)
        {
            return Fail(ExitCodes.Unreachable,
                $"Could not sign in to Azure: {FirstLine(e.Message)} Run 'az login' (or set up another " +
                    $"DefaultAzureCredential source).");
        }
        finally { connection?.Dispose(); }
    }

    public int Fail(int code, string message, bool usage = false)
    {
        console.Error.WriteLine($"error: {message}");
        if (usage) console.Error.WriteLine("Run 'pipeline --help' for the commands and options.");
        return code;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    /// <summary>A storage call that never got an answer (after the SDK's retries, which it reports as an
    /// AggregateException).</summary>
    private static Exception? Unreachable(Exception e) => e switch
    {
        RequestFailedException { Status: 0 } or RequestFailedException { InnerException: HttpRequestException } =>
            e.InnerException ?? e,
        AggregateException a when a.InnerExceptions.Count > 0 && a.InnerExceptions.All(i =>
            Unreachable(i) is not null) =>
            Unreachable(a.InnerExceptions[^1]),
        _ => null,
    };
}
