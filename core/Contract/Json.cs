using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Core.Contract;

/// <summary>The JSON settings of every message, manifest and control blob: camelCase, enums as strings, indented for
/// people.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
