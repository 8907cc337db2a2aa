using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;

namespace Pipeline.Cli;

/// <summary>
/// <c>pipeline predictions &lt;dataset&gt; [--uncertain]</c> lists kept predictions; <c>pipeline label &lt;dataset&gt;
/// &lt;id&gt; &lt;label&gt;</c> files one into uploads, for the next training (Custom Vision's suggested tags loop).
/// </summary>
public static class PredictionsCommand
{
    public static Command Create(CliOptions options)
    {
        var dataset = CliOptions.DatasetArgument();
        var uncertain = new Option<bool>("--uncertain")
        {
            Description = "least certain first (smallest margin between the two most probable labels), not newest",
        };
        var take = new Option<int>("--take")
        { Description = "how many to list (1 to 256)", DefaultValueFactory = _ => 50 };
        var command = new Command("predictions",
            "Scored images kept for review (Custom Vision routes, score?store=true), newest or least certain first")
        { dataset, uncertain, take };
        command.SetAction((parse, ct) => options.RunAsync(parse, connection =>
            ListAsync(parse.GetValue(dataset)!, parse.GetValue(uncertain), parse.GetValue(take),
                parse.GetValue(options.Json), connection, options.Console, ct), ct));
        return command;
    }

    public static Command CreateLabel(CliOptions options)
    {
        var dataset = CliOptions.DatasetArgument();
        var id = new Argument<string>("id") { Description = "the prediction's id (pipeline predictions lists them)" };
        var label = new Argument<string>("label")
        {
            Description = "the image's label (Negative: none of the labels); it is copied to " +
                "uploads/<dataset>/<label>/",
        };
        label.Validators.Add(r =>
            { if (Names.CheckLabel(r.GetValueOrDefault<string>()) is { } problem) r.AddError(problem); });
        var command = new Command("label", "Label a kept prediction's image: it goes into the dataset's uploads")
        { dataset, id, label };
        command.SetAction((parse, ct) => options.RunAsync(parse, connection =>
            LabelAsync(parse.GetValue(dataset)!, parse.GetValue(id)!, parse.GetValue(label)!,
                parse.GetValue(options.Json), connection, options.Console, ct), ct));
        return command;
    }

    public static async Task<int> ListAsync(string dataset, bool uncertain, int take, bool json,
        Connection connection, CliConsole console, CancellationToken ct)
    {
        var order = uncertain ? "uncertain" : "newest";
        var list = await connection.GetAsync<PredictionList>(
            $"datasets/{dataset}/predictions?order={order}&take={take}", ct);
        if (json) { console.Out.WriteLine(JsonSerializer.Serialize(list, Json.Options)); return ExitCodes.Ok; }
        if (list.Total == 0) { console.Out.WriteLine($"Dataset {dataset} keeps no predictions."); return ExitCodes.Ok; }
        console.Out.WriteLine($"{list.Total} kept prediction(s) of {dataset}, {order} first:");
        console.Out.WriteLine($"  {"id",-36}  {"created (UTC)",-16}  {"margin",6}  predictions");
        foreach (var p in list.Predictions)
        {
            var created = p.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
            var top = string.Join(", ", p.Predictions.OrderByDescending(l => l.Probability).Take(3)
                .Select(l => $"{l.Label} {l.Probability.ToString("0.00", CultureInfo.InvariantCulture)}"));
            console.Out.WriteLine($"  {p.Id,-36}  {created,-16}  " +
                $"{p.Margin.ToString("0.00", CultureInfo.InvariantCulture),6}  {top}");
        }
        return ExitCodes.Ok;
    }

    public static async Task<int> LabelAsync(string dataset, string id, string label, bool json,
        Connection connection, CliConsole console, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post,
            $"datasets/{dataset}/predictions/{Uri.EscapeDataString(id)}/label")
        {
            Content = JsonContent.Create(new LabelRequest([label]), options: Json.Options),
        };
        using var response = await connection.SendAsync(request, ct);
        var answer = await response.Content.ReadFromJsonAsync<LabelResponse>(Json.Options, ct)
            ?? throw new CliException(ExitCodes.Failed, "The API answered with nothing.");
        if (json) { console.Out.WriteLine(JsonSerializer.Serialize(answer, Json.Options)); return ExitCodes.Ok; }
        console.Out.WriteLine($"Labelled {answer.Id} as {string.Join(", ", answer.Labels)}: " +
            $"{string.Join(", ", answer.Uploads)}; the next training of {dataset} includes it.");
        return ExitCodes.Ok;
    }
}
