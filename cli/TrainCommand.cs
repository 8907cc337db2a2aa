using System.CommandLine;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Contract;

namespace Pipeline.Cli;

/// <summary><c>pipeline train &lt;dataset&gt; [--fast] [--options file.json] [--watch]</c>: asks the API for a training
/// run.</summary>
public static class TrainCommand
{
    public static Command Create(CliOptions options)
    {
        var dataset = CliOptions.DatasetArgument();
        var fast = new Option<bool>("--fast") { Description = "the fast setting: frozen backbone only" };
        var file = new Option<string?>("--options")
        {
            Description = "training options as in train.json", HelpName = "file.json",
        };
        var watch = new Option<bool>("--watch") { Description = "follow the job live until it ends" };
        var command = new Command("train", "Ask for a training run (options as in train.json)")
        {
            dataset, fast, file, watch,
        };
        command.SetAction((parse, ct) => options.RunAsync(parse, connection => RunAsync(parse.GetValue(dataset)!,
            parse.GetValue(fast), parse.GetValue(file), parse.GetValue(watch), parse.GetValue(options.Json), connection,
            options.Console, ct), ct));
        return command;
    }

    public static async Task<int> RunAsync(string dataset, bool fast, string? optionsFile, bool watch, bool json,
        Connection connection,
        CliConsole console, CancellationToken ct)
    {
        string body;
        if (optionsFile is not null)
        {
            if (fast) throw new CliException(ExitCodes.Usage, "Give --fast or --options, not both.");
            if (!File.Exists(optionsFile)) throw new CliException(ExitCodes.Usage,
                $"There is no options file '{optionsFile}'.");
            body = await File.ReadAllTextAsync(optionsFile, ct);
            // The API checks them too; the same rule here says what is wrong before anything is sent.
            if (TrainingOptions.Parse(body, out var reason) is null) throw new CliException(ExitCodes.Usage,
                $"{optionsFile}: {reason}");
        }
        else body = fast ? JsonSerializer.Serialize(TrainingOptions.Fast, Json.Options) : "";

        using var request = new HttpRequestMessage(HttpMethod.Post,
            $"datasets/{dataset}/train")
        { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await connection.SendAsync(request, ct);
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement;
        if (json) console.Out.WriteLine(answer.GetRawText());
        else
        {
            var result = answer.GetProperty("result").GetString();
            var message = answer.TryGetProperty("message", out var m) ? m.GetString() : "";
            console.Out.WriteLine($"{result}: {message}");
        }
        return watch ? await StatusCommand.WatchAsync(dataset, connection, console, ct) : ExitCodes.Ok;
    }
}
