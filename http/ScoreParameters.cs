using System.ComponentModel;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Pipeline.Core.Serving;

namespace Pipeline.Http;

/// <summary>
/// The query of POST /api/score/{dataset}, as the caller wrote it; <see cref="Parse"/> turns it into a
/// <see cref="ScoreQuery"/> or the problem with it (strings, so a bad value gets our ProblemDetails, not the
/// framework's).
/// </summary>
public sealed class ScoreParameters
{
    [FromQuery(Name = "top"), Description("The most probable labels to return (default: every label).")]
    public string? Top { get; init; }

    [FromQuery(Name = "threshold"),
     Description("One threshold from 0 to 1 for every label, instead of model.json's per-label thresholds.")]
    public string? Threshold { get; init; }

    [FromQuery(Name = "all"), Description("true: every label, whatever top says.")]
    public string? All { get; init; }

    [FromQuery(Name = "model"), Description("A published name to score with (default: the promoted version).")]
    public string? Model { get; init; }

    [FromQuery(Name = "version"), Description("A model version to score with (default: the promoted version).")]
    public string? Version { get; init; }

    [FromQuery(Name = "store"),
     Description("true: keep each image with its predictions for review (GET /api/datasets/{dataset}/predictions).")]
    public string? Store { get; init; }

    /// <summary>The function app's triggers bind no query parameters; they read them here.</summary>
    public static ScoreParameters From(IQueryCollection query) => new()
    {
        Top = query["top"].FirstOrDefault(),
        Threshold = query["threshold"].FirstOrDefault(),
        All = query["all"].FirstOrDefault(),
        Model = query["model"].FirstOrDefault(),
        Version = query["version"].FirstOrDefault(),
        Store = query["store"].FirstOrDefault(),
    };

    public (ScoreQuery? Query, ApiProblem? Problem) Parse()
    {
        int? top = null;
        if (Top is not null)
        {
            if (!int.TryParse(Top, NumberStyles.None, CultureInfo.InvariantCulture, out var k) || k < 1)
                return (null, ApiResult.Fail(400, "Invalid top", "top must be a whole number of at least 1."));
            top = k;
        }
        double? threshold = null;
        if (Threshold is not null)
        {
            if (!double.TryParse(Threshold, NumberStyles.Float, CultureInfo.InvariantCulture, out var t)
                || !(t is >= 0 and <= 1))
                return (null, ApiResult.Fail(400, "Invalid threshold",
                    $"threshold is a probability from 0 to 1, such as 0.3, not '{Threshold}'."));
            threshold = t;
        }
        var all = false;
        if (All is not null && !bool.TryParse(All, out all))
            return (null, ApiResult.Fail(400, "Invalid all", $"all is true or false, not '{All}'."));
        var store = false;
        if (Store is not null && !bool.TryParse(Store, out store))
            return (null, ApiResult.Fail(400, "Invalid store", $"store is true or false, not '{Store}'."));
        return (new ScoreQuery(top, threshold, all, Empty(Model), Empty(Version), store), null);
    }

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
