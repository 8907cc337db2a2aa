using System.Text.Json;

namespace Pipeline.Core.Contract;

/// <summary>The one rule for training options, wherever they come from (API body, train.json, --options, flags).</summary>
public sealed partial record TrainingOptions
{
    /// <summary>Parses training options as a user wrote them; null with a reason when they are not valid.</summary>
    public static TrainingOptions? Parse(string json, out string? reason)
    {
        reason = null;
        if (string.IsNullOrWhiteSpace(json)) return new TrainingOptions();
        try
        {
            var parsed = JsonSerializer.Deserialize<TrainingOptions>(json, Json.Options);
            if (parsed is null) { reason = "The training options are null; send {} for the defaults."; return null; }
            if (parsed.Resize is not ("crop" or "squash")) { reason = $"resize must be 'crop' or 'squash', not '{parsed.Resize}'."; return null; }
            if (parsed.HeadEpochs < 1 || parsed.BatchSize < 1 || parsed.FineTuneEpochs < 0 || parsed.ValidationFraction is <= 0 or >= 1)
            { reason = "headEpochs and batchSize must be at least 1, fineTuneEpochs at least 0, validationFraction between 0 and 1."; return null; }
            return parsed;
        }
        catch (JsonException e) { reason = $"The training options are not valid JSON: {e.Message}"; return null; }
    }
}
