using System.Text;
using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;

namespace Pipeline.Cli;

/// <summary><c>pipeline train &lt;dataset&gt; [--fast] [--options file.json] [--watch]</c>: asks the API for a training run.</summary>
public static class TrainCommand
{
    public static async Task<int> RunAsync(Arguments args, Connection connection, CliConsole console, CancellationToken ct)
    {
        var dataset = Dataset(args.Required(0, "<dataset>"));
        var fast = args.Flag("--fast");
        var optionsFile = args.Option("--options");
        var watch = args.Flag("--watch");
        var json = args.Flag("--json");
        args.Done(1);

        string body;
        if (optionsFile is not null)
        {
            if (!File.Exists(optionsFile)) throw new CliException(ExitCodes.Usage, $"There is no options file '{optionsFile}'.");
            body = await File.ReadAllTextAsync(optionsFile, ct);
        }
        else body = fast ? JsonSerializer.Serialize(TrainingOptions.Fast, Json.Options) : "";

        using var request = new HttpRequestMessage(HttpMethod.Post, $"datasets/{dataset}/train") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
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

    public static string Dataset(string name) =>
        Names.CheckDataset(name) is { } problem ? throw new CliException(ExitCodes.Usage, problem) : name;
}
