using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Datasets;

/// <summary>
/// Whether a dataset's accepted images can be trained at all, decided where a request is made (no job is queued for a
/// dataset the trainer would refuse): the same rule the trainer applies to the folders it trains from.
/// </summary>
public static class Trainability
{
    public const int MinimumLabels = 2;
    /// <summary>Images a label needs, train and test together; Negative (images of no label) too.</summary>
    public const int MinimumImagesPerLabel = 5;

    /// <summary>Null when <paramref name="dataset"/> can be trained, else why not and what to upload.</summary>
    public static string? Check(string dataset, IReadOnlyCollection<DatasetImage> images)
    {
        // The trainer learns the labels that have training images; a label only in test is skipped. Negative counts
        // as a label: one label and Negative is a dataset ("defect or not").
        var labels = images.Where(i => i.Split == Split.Train).Select(i => i.Label).Distinct()
            .Order(StringComparer.Ordinal).ToList();
        if (labels.Count < MinimumLabels)
        {
            var named = labels.Count > 0 ? $" ('{string.Join("', '", labels)}')" : "";
            var plural = labels.Count == 1 ? "" : "s";
            return $"Dataset '{dataset}' cannot be trained yet: it has {labels.Count} label{plural} with training " +
                $"images{named}; at least {MinimumLabels} are needed (a Negative folder of images of no label " +
                $"counts). Upload each label's images to uploads/{dataset}/<label>/.";
        }
        var tooFew = labels.Select(l => (Label: l, Count: images.Count(i => i.Label == l)))
            .Where(x => x.Count < MinimumImagesPerLabel).ToList();
        if (tooFew.Count > 0)
            return $"Dataset '{dataset}' cannot be trained yet: each label needs at least {MinimumImagesPerLabel} " +
                $"images; too few in {string.Join(", ", tooFew.Select(x => $"'{x.Label}' ({x.Count})"))}. " +
                $"Upload more to uploads/{dataset}/<label>/.";
        return null;
    }
}
