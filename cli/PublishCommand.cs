using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;

namespace Pipeline.Cli;

/// <summary>
/// <c>pipeline publish &lt;dataset&gt; &lt;version&gt; --name &lt;n&gt;</c> points a published name at a version (a
/// rollback when the version is older); <c>pipeline unpublish ...</c> removes the name.
/// </summary>
public static class PublishCommand
{
    public static Command Create(CliOptions options) => Define(options, publish: true);

    public static Command CreateUnpublish(CliOptions options) => Define(options, publish: false);

    private static Command Define(CliOptions options, bool publish)
    {
        var dataset = CliOptions.DatasetArgument();
        var version = new Argument<string>("version")
        {
            Description = "the model version (pipeline models lists them)"
        };
        var name = new Option<string>("--name")
        {
            Description = publish ? "the name to publish under, such as production" : "the published name to remove",
            HelpName = "name", Required = true,
        };
        name.Validators.Add(r =>
            { if (PublishedNameRules.Check(r.GetValueOrDefault<string>()) is { } problem) r.AddError(problem); });
        var command = publish
            ? new Command("publish", "Point a published name at a version (POST /api/score/<dataset>?model=<name> " +
                "scores with it); publishing an older version under the same name rolls back")
            : new Command("unpublish", "Remove a published name from the version it points to");
        command.Arguments.Add(dataset);
        command.Arguments.Add(version);
        command.Options.Add(name);
        command.SetAction((parse, ct) => options.RunAsync(parse, connection =>
            RunAsync(publish, parse.GetValue(dataset)!, parse.GetValue(version)!, parse.GetValue(name)!,
                parse.GetValue(options.Json), connection, options.Console, ct), ct));
        return command;
    }

    public static async Task<int> RunAsync(bool publish, string dataset, string version, string name, bool json,
        Connection connection, CliConsole console, CancellationToken ct)
    {
        var path = $"datasets/{dataset}/models/{Uri.EscapeDataString(version)}/publish";
        using var request = publish
            ? new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = JsonContent.Create(new PublishRequest(name), options: Json.Options)
            }
            : new HttpRequestMessage(HttpMethod.Delete, $"{path}/{Uri.EscapeDataString(name)}");
        using var response = await connection.SendAsync(request, ct);
        var answer = await response.Content.ReadFromJsonAsync<PublishResponse>(Json.Options, ct)
            ?? throw new CliException(ExitCodes.Failed, "The API answered with nothing.");
        if (json) { console.Out.WriteLine(JsonSerializer.Serialize(answer, Json.Options)); return ExitCodes.Ok; }

        console.Out.WriteLine(publish
            ? answer.Previous is { } previous && previous != version
                ? $"'{name}' of {dataset} now points to {version} (was {previous})."
                : $"'{name}' of {dataset} points to {version}."
            : $"'{name}' of {dataset} no longer points to {version}.");
        console.Out.WriteLine(answer.Names.Count == 0 ? "No published names."
            : "Published names: " + string.Join(", ", answer.Names.Select(n => $"{n.Name} → {n.Version}")));
        if (publish)
            console.Out.WriteLine($"Scoring with it starts within the API's refresh period: pipeline score <image> " +
                $"--dataset {dataset} --model {name}");
        return ExitCodes.Ok;
    }
}
