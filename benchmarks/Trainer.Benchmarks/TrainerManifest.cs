using System.Text.Json;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// What a trainer run's model.json (written beside model.onnx) says about its timings and the path its recipe took.
/// Read leniently as plain JSON: the trainer adds fields as its recipe grows, and the benchmark must keep reading
/// older and newer manifests alike.
/// </summary>
public sealed record TrainerManifest(JsonElement? Timings, string? Path, JsonElement? Recipe)
{
    /// <summary>Fields every manifest has that say nothing about the recipe's choices (or are too bulky).</summary>
    private static readonly HashSet<string> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        "version", "dataset", "labels", "preprocessing", "backbone", "imageCounts", "metrics", "thresholds",
        "timings", "device", "packageVersions", "skipped", "history", "createdAt", "classification", "negativeLabel",
    };

    public static TrainerManifest Read(JsonElement? result)
    {
        if (result is not { ValueKind: JsonValueKind.Object } r || !r.TryGetProperty("modelPath", out var model)
            || model.GetString() is not { } modelPath)
            return new(null, null, null);
        var file = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(modelPath)!, "model.json");
        if (!File.Exists(file)) return new(null, null, null);
        using var document = JsonDocument.Parse(File.ReadAllText(file));
        var root = document.RootElement;
        var timings = Property(root, "timings") is { ValueKind: JsonValueKind.Object } t ? t.Clone()
            : (JsonElement?)null;
        return new(timings, PathOf(root, timings), RecipeOf(root));
    }

    /// <summary>
    /// The stages as the trainer ran them: a "path" the manifest states itself, else the stages in History in order
    /// (a stage with no epoch marked best was not kept: the stage before it won on validation), else the stages
    /// that took time in Timings.
    /// </summary>
    private static string? PathOf(JsonElement root, JsonElement? timings)
    {
        if (Property(root, "path") is { ValueKind: JsonValueKind.String } stated) return stated.GetString();
        if (Property(root, "history") is { ValueKind: JsonValueKind.Array } history && history.GetArrayLength() > 0)
        {
            var stages = new List<(string Name, bool Kept)>();
            foreach (var epoch in history.EnumerateArray())
            {
                if (Property(epoch, "stage") is not { ValueKind: JsonValueKind.String } s
                    || s.GetString() is not { } name)
                    continue;
                var best = Property(epoch, "best") is { ValueKind: JsonValueKind.True };
                var index = stages.FindIndex(x => x.Name == name);
                if (index < 0) stages.Add((name, best));
                else if (best) stages[index] = (name, true);
            }
            if (stages.Count > 0)
                return string.Join(" > ", stages.Select(s => s.Kept ? s.Name : $"{s.Name} (not kept)"));
        }
        if (timings is not { } t) return null;
        string[] notStages = ["loadSeconds", "evaluateSeconds", "totalSeconds"];
        var spent = t.EnumerateObject()
            .Where(p => p.Name.EndsWith("Seconds", StringComparison.Ordinal) && !notStages.Contains(p.Name)
                && p.Value.ValueKind == JsonValueKind.Number && p.Value.GetDouble() > 0)
            .Select(p => p.Name[..^"Seconds".Length]).ToList();
        return spent.Count > 0 ? string.Join(" > ", spent) : null;
    }

    /// <summary>All else model.json holds (the options, and whatever the trainer adds about its choices).</summary>
    private static JsonElement? RecipeOf(JsonElement root)
    {
        var rest = root.EnumerateObject().Where(p => !Known.Contains(p.Name))
            .ToDictionary(p => p.Name, p => p.Value.Clone());
        return rest.Count == 0 ? null : JsonSerializer.SerializeToElement(rest);
    }

    private static JsonElement? Property(JsonElement e, string name) => JsonFields.Property(e, name);
}
