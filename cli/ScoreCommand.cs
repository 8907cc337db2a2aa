using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pipeline.Cli;

/// <summary><c>pipeline score &lt;image|folder&gt; --dataset &lt;name&gt; [--top k] [--json]</c>: scores through the
/// API, in batches the API accepts.</summary>
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
        var command = new Command("score", "Score images with the promoted model: a table, or --json") { target,
            dataset, top };
        command.SetAction((parse, ct) => options.RunAsync(parse, connection => RunAsync(parse.GetValue(target)!,
            parse.GetValue(dataset)!,
            parse.GetValue(top), parse.GetValue(options.Json), connection, options.Console, ct), ct));
        return command;
    }

    public static async Task<int> RunAsync(string target, string dataset, int top, bool json, Connection connection,
        CliConsole console, CancellationToken ct)
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
                $"score/{dataset}?top={top}")
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
                ["dataset"] = dataset, ["modelVersion"] = modelVersion,
                ["images"] = results
            }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Ok;
        }
        var width = Math.Max(4, files.Max(f => f.Name.Length));
        console.Out.WriteLine($"{"file".PadRight(width)}  {"label",-20}  probability");
        foreach (var image in results)
        {
            var name = image!["name"]!.GetValue<string>();
            foreach (var prediction in image["predictions"]!.AsArray())
            {
                var probability = prediction!["probability"]!.GetValue<double>().ToString("0.000",
                    CultureInfo.InvariantCulture);
                var label = prediction["label"]!.GetValue<string>();
                console.Out.WriteLine($"{name.PadRight(width)}  {label,-20}  {probability,11}");
                name = "";
            }
        }
        console.Out.WriteLine($"model {modelVersion} of {dataset}");
        return ExitCodes.Ok;
    }
}
