using System.Text.Json;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// A benchmark's saved rows and what they were run with: <c>benchmarks/results/trainer-&lt;date&gt;.json</c>.
/// Seeds, Settings and TimeoutMinutes are missing (null) in files from before there were several splits.
/// </summary>
public sealed record ResultFile(
    DateTimeOffset CreatedAt,
    int? LimitPerLabel,
    int ProcessorCount,
    IReadOnlyList<ResultRow> Rows,
    IReadOnlyList<int>? Seeds = null,
    IReadOnlyDictionary<string, string>? Settings = null,
    double? TimeoutMinutes = null)
{
    // Strict on reading: a file without its rows or a row without its dataset is an error, not a crash later.
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public void Save(string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        // Through a temporary file, so an interrupted write never leaves half a file where the last good one was.
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(this, JsonOptions));
        File.Move(file + ".tmp", file, overwrite: true);
    }

    public static ResultFile Load(string file)
    {
        if (!File.Exists(file)) throw new UsageException($"The results file '{file}' does not exist.");
        try
        {
            return JsonSerializer.Deserialize<ResultFile>(File.ReadAllText(file), JsonOptions)
                ?? throw new UsageException($"'{file}' holds no results.");
        }
        catch (JsonException e)
        {
            throw new UsageException($"'{file}' is not a trainer-benchmarks results file: {e.Message}");
        }
    }
}
