using Pipeline.Core.Contract;

namespace Pipeline.Trainer.Training;

/// <summary>
/// A dataset's files grouped by content: the same content under several labels is one image with all of them
/// (multilabel) or a conflict left out (multiclass).
/// </summary>
public static class LabelledFiles
{
    /// <summary>One image to decode: its first file, its content key, its key (first label, or the number of labels
    /// for an image of none), every label it has, and its file's size.</summary>
    public sealed record Candidate(string File, string Hash, int Label, int[] Targets, long Bytes);

    /// <summary>
    /// One candidate per content. Multiclass: content under two labels is a conflict, left out with a reason naming
    /// both. Multilabel: one image with all of its labels; Negative beside a label is a conflict too.
    /// </summary>
    public static List<Candidate> Group(ImageSource source, List<SourceFile> files, IReadOnlyList<string> labels,
        bool multilabel, List<SkippedFile> skipped)
    {
        var hashes = new string?[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            try { hashes[i] = source.ContentKey(files[i]); }
            catch (IOException e)
            {
                lock (skipped) skipped.Add(new(files[i].Name, $"The file cannot be read: {e.Message}"));
            }
        });
        var candidates = new List<Candidate>();
        foreach (var same in files.Select((f, i) => (File: f.Name, f.Label, f.Bytes, Hash: hashes[i]))
            .Where(x => x.Hash is not null).GroupBy(x => x.Hash!))
        {
            var names = same.Select(x => x.Label).Distinct().Order(StringComparer.Ordinal).ToList();
            if (names.Count > 1 && (!multilabel || names.Contains(Classification.Negative)))
            {
                var reason = $"Conflict: the same image is under {string.Join(" and ", names.Select(n => $"'{n}'"))}. "
                    + (multilabel
                        ? "Negative means no label, so it is left out of training: remove it from Negative or "
                            + "from the labels."
                        : "A multiclass image has one label, so it is left out of training: keep it under one label, "
                            + "or make the dataset multilabel (dataset.json: {\"classification\": \"multilabel\"}).");
                skipped.AddRange(same.Select(x => x.File).Distinct().Select(f => new SkippedFile(f, reason)));
                continue;
            }
            var targets = Enumerable.Range(0, labels.Count).Where(i => names.Contains(labels[i])).ToArray();
            candidates.Add(new Candidate(same.First().File, same.Key, targets.Length > 0 ? targets[0] : labels.Count,
                targets, same.First().Bytes));
        }
        return candidates;
    }
}
