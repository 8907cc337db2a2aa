using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Core.Contract;

/// <summary>uploads/&lt;dataset&gt;/dataset.json: settings of one dataset.</summary>
/// <param name="Classification">"multiclass" (the default: one label per image) or "multilabel" (zero or more, the
/// labels of the same image under several label folders joined).</param>
public sealed record DatasetSettings(double? TestFraction = null, string? Classification = null)
{
    public const string FileName = StorageNames.DatasetSettingsFile;

    [JsonIgnore]
    public bool Multilabel => Contract.Classification.IsMultilabel(Classification);

    /// <summary>What a model trained on this dataset is: "multiclass" or "multilabel".</summary>
    [JsonIgnore]
    public string Kind => Multilabel ? Contract.Classification.Multilabel : Contract.Classification.Multiclass;

    /// <summary>The settings as a user wrote them; null with a reason when they are not valid.</summary>
    public static DatasetSettings? Parse(byte[] content, out string? reason)
    {
        reason = null;
        try
        {
            var settings = JsonSerializer.Deserialize<DatasetSettings>(content, Json.Options);
            if (settings is null) { reason = "dataset.json is null."; return null; }
            if (settings.TestFraction is < 0 or >= 1)
            {
                reason = "testFraction must be at least 0 and below 1.";
                return null;
            }
            if (Contract.Classification.Check(settings.Classification) is { } problem)
            {
                reason = problem;
                return null;
            }
            return settings;
        }
        catch (JsonException e) { reason = $"dataset.json is not valid JSON: {e.Message}"; return null; }
    }
}
