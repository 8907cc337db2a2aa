using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pipeline.Cli;

/// <summary><c>pipeline score &lt;image|folder&gt; --dataset &lt;name&gt; [--top k] [--all] [--threshold t]
/// [--model name | --version v] [--json]</c>: scores through the API, in batches the API accepts.</summary>
public static class ScoreCommand
{
    /// <summary>The API's default <c>Pipeline__MaxImagesPerRequest</c>.</summary>
    private const int Batch = 32;

    public static Command Create(CliOptions options)
    {
        var target = new Argument<string>("image|folder")
        {
            Description = "an image, or a folder whose images are " +
            "all scored"
        };
        var dataset = CliOptions.DatasetOption();
        var top = CliOptions.AtLeast("--top", 1, 3, "predictions per image");
        var all = new Option<bool>("--all") { Description = "every label, whatever --top says" };
        var threshold = new Option<double?>("--threshold")
        {
            Description = "one threshold from 0 to 1 for every label (default: each label's own, from model.json)",
            HelpName = "t",
        };
        threshold.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is { } t && !(t is >= 0 and <= 1))
                r.AddError($"--threshold takes a probability from 0 to 1, not {t}.");
        });
        var model = new Option<string?>("--model")
        {
            Description = "a published name to score with (default: the promoted version)", HelpName = "name",
        };
        var version = new Option<string?>("--version")
        {
            Description = "a model version to score with (default: the promoted version)", HelpName = "v",
        };
        var command = new Command("score", "Score images with the promoted model (or --model, --version): each " +
            "label's probability, its threshold and whether it reaches it; a table, or --json")
        { target, dataset, top, all, threshold, model, version };
        command.Validators.Add(r =>
        {
            if (r.GetValue(model) is not null && r.GetValue(version) is not null)
                r.AddError("Give --model or --version, not both.");
        });
        command.SetAction((parse, ct) => options.RunAsync(parse, connection => RunAsync(parse.GetValue(target)!,
            parse.GetValue(dataset)!,
            new Choice(parse.GetValue(top), parse.GetValue(all), parse.GetValue(threshold), parse.GetValue(model),
                parse.GetValue(version)), parse.GetValue(options.Json), connection, options.Console, ct), ct));
        return command;
    }

    /// <summary>What to score with and what to show: the API's query.</summary>
    public sealed record Choice(int Top = 3, bool All = false, double? Threshold = null, string? Model = null,
        string? Version = null)
    {
        public string Query()
        {
            var query = $"top={Top}";
            if (All) query += "&all=true";
            if (Threshold is { } t) query += $"&threshold={t.ToString(CultureInfo.InvariantCulture)}";
            if (Model is not null) query += $"&model={Uri.EscapeDataString(Model)}";
            if (Version is not null) query += $"&version={Uri.EscapeDataString(Version)}";
            return query;
        }
    }

    public static async Task<int> RunAsync(string target, string dataset, Choice choice, bool json,
        Connection connection, CliConsole console, CancellationToken ct)
    {

        List<(string Name, string Path)> files;
        if (File.Exists(target)) files = [(Path.GetFileName(target), target)];
        else if (Directory.Exists(target))
            files = Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories)
                .Select(p => (Name: Path.GetRelativePath(target, p).Replace('\\', '/'), Path: p))
                .Where(f => !f.Name.Split('/').Any(s => s.StartsWith('.')))
                .OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        else throw new CliException(ExitCodes.Usage, $"There is no file or folder '{target}'.");
        if (files.Count == 0) throw new CliException(ExitCodes.Usage, $"'{target}' holds no files to score.");

        var results = new JsonArray();
        string? modelVersion = null;
        foreach (var chunk in files.Chunk(Batch))
        {
            using var form = new MultipartFormDataContent();
            foreach (var (name, path) in chunk)
            {
                var part = new ByteArrayContent(await File.ReadAllBytesAsync(path, ct));
                part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                form.Add(part, "images", name);
            }
            using var request = new HttpRequestMessage(HttpMethod.Post,
                $"score/{dataset}?{choice.Query()}")
            { Content = form };
            using var response = await connection.SendAsync(request, ct);
            var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
            modelVersion = answer["modelVersion"]?.GetValue<string>();
            foreach (var image in answer["images"]!.AsArray()) results.Add(image!.DeepClone());
        }

        if (json)
        {
            console.Out.WriteLine(new JsonObject
            {
                ["dataset"] = dataset, ["modelVersion"] = modelVersion, ["model"] = choice.Model,
                ["images"] = results
            }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Ok;
        }
        var width = Math.Max(4, files.Max(f => f.Name.Length));
        console.Out.WriteLine($"{"file".PadRight(width)}  {"label",-20}  probability  threshold  above");
        foreach (var image in results)
        {
            var name = image!["name"]!.GetValue<string>();
            foreach (var prediction in image["predictions"]!.AsArray())
            {
                var probability = F(prediction!["probability"]!.GetValue<double>());
                var threshold = prediction["threshold"] is { } t ? F(t.GetValue<double>()) : "";
                var label = prediction["label"]!.GetValue<string>();
                var above = prediction["aboveThreshold"]?.GetValue<bool>() == true ? "yes" : "no";
                console.Out.WriteLine($"{name.PadRight(width)}  {label,-20}  {probability,11}  {threshold,9}  {above}");
                name = "";
            }
        }
        var with = choice.Model is not null ? $" (published as '{choice.Model}')" : "";
        console.Out.WriteLine($"model {modelVersion} of {dataset}{with}");
        return ExitCodes.Ok;
    }

    private static string F(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
