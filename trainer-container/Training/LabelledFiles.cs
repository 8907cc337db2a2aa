using System.Security.Cryptography;
using Pipeline.Core.Contract;

namespace Pipeline.Trainer.Training;

/// <summary>
/// The files of a dataset folder and the labels they are filed under: one folder per label, and labels.csv
/// (<c>file,labels</c>, labels separated by ';', none for an image of no label) naming files beside it, as Custom
/// Vision, Vertex and Rekognition export. The same content under several labels is one image.
/// </summary>
public static class LabelledFiles
{
    public const string LabelsFile = LabelsCsv.FileName;

    /// <summary>One image to decode: its first file, its content hash, its key (first label, or the number of labels
    /// for an image of none) and every label it has.</summary>
    public sealed record Candidate(string File, string Hash, int Label, int[] Targets);

    /// <summary>Each (file, label name) pair: a file twice when it is filed under two labels.</summary>
    public static List<(string File, string Label)> List(string folder, List<SkippedFile> skipped)
    {
        var files = Directory.EnumerateDirectories(folder).Where(d => !Path.GetFileName(d).StartsWith('.'))
            .Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal)
            .SelectMany(label => Directory.EnumerateFiles(Path.Combine(folder, label)).Order(StringComparer.Ordinal)
                .Select(f => (f, label)))
            .ToList();
        var csv = Path.Combine(folder, LabelsFile);
        if (File.Exists(csv)) files.AddRange(ReadCsv(folder, csv, skipped));
        return files;
    }

    /// <summary>
    /// One candidate per content. Multiclass: content under two labels is a conflict, left out with a reason naming
    /// both. Multilabel: one image with all of its labels; Negative beside a label is a conflict too.
    /// </summary>
    public static List<Candidate> Group(List<(string File, string Label)> files, IReadOnlyList<string> labels,
        bool multilabel, List<SkippedFile> skipped)
    {
        var hashes = new string?[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            try { hashes[i] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(files[i].File))); }
            catch (IOException e)
            {
                lock (skipped) skipped.Add(new(files[i].File, $"The file cannot be read: {e.Message}"));
            }
        });
        var candidates = new List<Candidate>();
        foreach (var same in files.Select((f, i) => (f.File, f.Label, Hash: hashes[i])).Where(x => x.Hash is not null)
            .GroupBy(x => x.Hash!))
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
                targets));
        }
        return candidates;
    }

    private static IEnumerable<(string File, string Label)> ReadCsv(string folder, string csv,
        List<SkippedFile> skipped)
    {
        var problems = new List<(int Line, string Reason)>();
        var rows = LabelsCsv.Parse(File.ReadAllText(csv), problems);
        skipped.AddRange(problems.Select(p => new SkippedFile(csv, $"{LabelsFile} line {p.Line}: {p.Reason}")));
        var root = Path.GetFullPath(folder) + Path.DirectorySeparatorChar;
        foreach (var row in rows)
        {
            var file = Path.GetFullPath(Path.Combine(folder, row.File));
            if (!file.StartsWith(root, StringComparison.Ordinal) || !File.Exists(file))
            {
                skipped.Add(new(Path.Combine(folder, row.File),
                    $"{LabelsFile} line {row.Line} names a file that is not there, beside {LabelsFile}."));
                continue;
            }
            if (row.Labels.Count == 0) yield return (file, Classification.Negative);
            foreach (var label in row.Labels) yield return (file, label);
        }
    }
}
