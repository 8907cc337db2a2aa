namespace Pipeline.Core.Contract;

/// <summary>One row of labels.csv: the file (beside labels.csv) and its labels; none: an image of no label.</summary>
public sealed record LabelsCsvRow(int Line, string File, IReadOnlyList<string> Labels);

/// <summary>
/// labels.csv beside the images, as Custom Vision, Vertex and Rekognition export: a header <c>file,labels</c>, then
/// one row per image, its labels separated by ';' (<c>beach.jpg,sea;sand</c>), none for an image of no label
/// (Negative). Read the same by the split (uploads/&lt;dataset&gt;/labels.csv) and the trainer (a data folder's).
/// </summary>
public static class LabelsCsv
{
    public const string FileName = StorageNames.LabelsFile;

    /// <summary>The rows that can be used; each row that cannot is in <paramref name="problems"/> with its
    /// reason.</summary>
    public static IReadOnlyList<LabelsCsvRow> Parse(string text, List<(int Line, string Reason)> problems)
    {
        var rows = new List<LabelsCsvRow>();
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim().TrimStart('\uFEFF');
            if (line.Length == 0 ||
                n == 0 && line.Replace(" ", "").Equals("file,labels", StringComparison.OrdinalIgnoreCase))
                continue;
            var comma = line.IndexOf(',');
            var file = (comma < 0 ? line : line[..comma]).Trim().Trim('"');
            if (file.Length == 0) { problems.Add((n + 1, "the file name is empty.")); continue; }
            var labels = comma < 0 ? [] : line[(comma + 1)..].Trim().Trim('"').Split(';',
                StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (labels.Select(Names.CheckLabel).FirstOrDefault(p => p is not null) is { } problem)
            {
                problems.Add((n + 1, problem));
                continue;
            }
            rows.Add(new LabelsCsvRow(n + 1, file, labels.Select(Names.NormalizeLabel).Distinct().ToList()));
        }
        return rows;
    }
}
