using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Datasets;

/// <summary>One image (one content) found under several labels where it cannot have them all.</summary>
/// <param name="Image">Its name in the split container, <c>&lt;content hash&gt;.&lt;ext&gt;</c>.</param>
public sealed record LabelConflict(string Image, IReadOnlyList<string> Labels, string Reason);

/// <summary>
/// The same content uploaded under several label folders: in a multilabel dataset one image with all those labels,
/// in a multiclass dataset a conflict the trainer leaves out. Negative beside a label is a conflict in both. Accepted
/// images are named by their content hash, so copies are found by name, as the trainer finds them by content.
/// </summary>
public static class LabelConflicts
{
    public static IReadOnlyList<LabelConflict> Find(IReadOnlyCollection<DatasetImage> images, bool multilabel) =>
        images.GroupBy(i => Path.GetFileName(i.BlobName), StringComparer.Ordinal)
            .Select(same => (Image: same.Key, Labels: same.Select(i => i.Label).Distinct()
                .Order(StringComparer.Ordinal).ToList()))
            .Where(x => x.Labels.Count > 1 && (!multilabel || x.Labels.Contains(Classification.Negative)))
            .Select(x => new LabelConflict(x.Image, x.Labels, multilabel
                ? $"Under {Quoted(x.Labels)}: Negative means no label, so it is left out of training."
                : $"Under {Quoted(x.Labels)}: a multiclass image has one label, so it is left out of training. Keep " +
                    "it under one label, or make the dataset multilabel (dataset.json: " +
                    "{\"classification\": \"multilabel\"})."))
            .OrderBy(c => c.Image, StringComparer.Ordinal).ToList();

    private static string Quoted(IEnumerable<string> labels) => string.Join(" and ", labels.Select(l => $"'{l}'"));
}
