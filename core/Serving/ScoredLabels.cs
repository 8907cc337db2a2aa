using Pipeline.Core.Contract;

namespace Pipeline.Core.Serving;

/// <summary>
/// One label's score for an image: its probability, the threshold it is called at (model.json's per-label threshold,
/// or the request's <c>threshold</c>) and whether it reaches it.
/// </summary>
public sealed record ScoredLabel(string Label, double Probability, double Threshold, bool AboveThreshold);

/// <summary>What a scoring request asks besides the images: how many predictions, which thresholds, which
/// model.</summary>
/// <param name="Top">the most probable labels to return; null: every label</param>
/// <param name="Threshold">one threshold for every label instead of model.json's</param>
/// <param name="All">every label, whatever <paramref name="Top"/> says</param>
/// <param name="Model">a published name to score with</param>
/// <param name="Version">a model version to score with</param>
/// <param name="Store">keep each image with its predictions for review (the predictions container)</param>
public sealed record ScoreQuery(int? Top = null, double? Threshold = null, bool All = false, string? Model = null,
    string? Version = null, bool Store = false);

/// <summary>
/// Turns a model's output for one image into the answer: every label with its threshold, most probable first, and
/// the labels that reach their threshold. The probabilities are taken as they come, never renormalised: softmax
/// outputs of a multiclass model and independent sigmoid outputs of a multilabel one are compared with their
/// thresholds alike.
/// </summary>
public static class ScoredLabels
{
    /// <summary>The threshold of a label model.json gives none for (versions trained before thresholds).</summary>
    public const double DefaultThreshold = 0.5;

    /// <summary>The label whose images belong to no label (Custom Vision's Negative tag): scored, never
    /// listed.</summary>
    public const string NegativeLabel = "Negative";

    public static (IReadOnlyList<ScoredLabel> Predictions, IReadOnlyList<string> Labels) Shape(
        IReadOnlyList<float> probabilities, ModelManifest manifest, ScoreQuery query)
    {
        var scored = new List<ScoredLabel>(probabilities.Count);
        for (var j = 0; j < probabilities.Count; j++)
        {
            var label = manifest.Labels[j];
            var threshold = query.Threshold
                ?? (manifest.Thresholds.TryGetValue(label, out var t) ? t : DefaultThreshold);
            scored.Add(new ScoredLabel(label, probabilities[j], threshold, probabilities[j] >= threshold));
        }
        // Stable: equal probabilities keep model.json's label order.
        var ordered = scored.OrderByDescending(s => s.Probability).ToList();
        var negative = manifest.NegativeLabel ?? NegativeLabel;
        var labels = ordered.Where(s => s.AboveThreshold && s.Label != negative).Select(s => s.Label)
            .ToList();
        return (query.All ? ordered : ordered.Take(query.Top ?? int.MaxValue).ToList(), labels);
    }

    /// <summary>
    /// True for the class that stands for "none of the labels": a Negative class is scored and shown among the
    /// predictions, but an image is never labelled with it. Shape asks model.json's mark first (NegativeLabel), then
    /// this name, for versions trained before the mark.
    /// </summary>
    public static bool IsNegative(string label) => label == NegativeLabel;
}
