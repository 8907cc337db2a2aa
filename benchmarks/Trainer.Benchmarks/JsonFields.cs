using System.Text.Json;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>Lenient reads of the children's JSON: a field by name in any case; null where it is missing.</summary>
public static class JsonFields
{
    public static JsonElement? Property(JsonElement? e, string name)
    {
        if (e is not { ValueKind: JsonValueKind.Object } o) return null;
        if (o.TryGetProperty(name, out var exact)) return exact;
        foreach (var p in o.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }

    public static double? Number(JsonElement? e, string name) =>
        Property(e, name) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;
}
