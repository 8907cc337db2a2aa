using System.Security.Cryptography;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;

namespace Pipeline.Trainer.Training;

/// <summary>
/// A dataset in folders, as Keras' flow_from_directory reads it: one folder per label, and labels.csv
/// (<c>file,labels</c>, labels separated by ';', none for an image of no label) naming files beside it, as Custom
/// Vision, Vertex and Rekognition export. A given train/ and test/ (or val/) split under the data folder is respected,
/// as is a test folder given apart; dataset.json in the data folder says whether it is multilabel.
/// </summary>
public sealed class FolderImageSource : ImageSource
{
    public const string LabelsFile = LabelsCsv.FileName;
    private readonly string dataFolder;
    private readonly string trainFolder;
    private readonly string? testFolder;

    public FolderImageSource(string dataFolder, string? testFolder)
    {
        if (!Directory.Exists(dataFolder))
            throw new DatasetRefusedException($"The data folder '{dataFolder}' does not exist.");
        if (testFolder is not null && !Directory.Exists(testFolder))
            throw new DatasetRefusedException($"The test folder '{testFolder}' does not exist.");
        (this.dataFolder, trainFolder, this.testFolder) = (dataFolder, dataFolder, testFolder);
        if (testFolder is not null) return;
        var given = new[] { "test", "val" }.Select(n => Path.Combine(dataFolder, n)).FirstOrDefault(Directory.Exists);
        if (given is not null && Directory.Exists(Path.Combine(dataFolder, "train")))
            (trainFolder, this.testFolder) = (Path.Combine(dataFolder, "train"), given);
    }

    public override string Description => trainFolder;

    public override DatasetSettings Settings()
    {
        var file = Path.Combine(dataFolder, DatasetSettings.FileName);
        return ParseSettings(File.Exists(file) ? File.ReadAllBytes(file) : null);
    }

    public override (List<SourceFile> Train, List<SourceFile>? Test) List(List<SkippedFile> skipped) =>
        (Files(trainFolder, skipped), testFolder is null ? null : Files(testFolder, skipped));

    public override string ContentKey(SourceFile file) =>
        Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file.Name)));

    public override Task<FileContent[]> ReadAsync(IReadOnlyList<string> names, ImageLimits limits,
        CancellationToken ct) => Task.Run(() =>
    {
        var contents = new FileContent[names.Count];
        Parallel.For(0, names.Count, new ParallelOptions { CancellationToken = ct }, i =>
        {
            try
            {
                using var file = File.OpenRead(names[i]);
                contents[i] = new(ImageFile.ReadBounded(file, limits), null);
            }
            catch (ImageRejectedException e) { contents[i] = new(null, e.Reason); }
            catch (IOException e) { contents[i] = new(null, $"The file cannot be read: {e.Message}"); }
        });
        return contents;
    }, ct);

    public override string MistakeImages => TestMistakes.FileImages;

    /// <summary>A test image's path relative to the data folder, else to the test folder given apart.</summary>
    public override string MistakeName(string name)
    {
        var full = Path.GetFullPath(name);
        var root = new[] { dataFolder, testFolder }.OfType<string>().Select(Path.GetFullPath)
            .FirstOrDefault(r => full.StartsWith(Path.TrimEndingDirectorySeparator(r) + Path.DirectorySeparatorChar,
                StringComparison.Ordinal));
        return (root is null ? full : Path.GetRelativePath(root, full)).Replace('\\', '/');
    }

    /// <summary>Each (file, label name) pair: a file twice when it is filed under two labels.</summary>
    private static List<SourceFile> Files(string folder, List<SkippedFile> skipped)
    {
        var files = Directory.EnumerateDirectories(folder).Where(d => !Path.GetFileName(d).StartsWith('.'))
            .Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal)
            .SelectMany(label => new DirectoryInfo(Path.Combine(folder, label)).EnumerateFiles()
                .OrderBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => new SourceFile(Path.Combine(folder, label, f.Name), label, f.Length)))
            .ToList();
        var csv = Path.Combine(folder, LabelsFile);
        if (File.Exists(csv)) files.AddRange(ReadCsv(folder, csv, skipped));
        return files;
    }

    private static IEnumerable<SourceFile> ReadCsv(string folder, string csv, List<SkippedFile> skipped)
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
            var bytes = new FileInfo(file).Length;
            if (row.Labels.Count == 0) yield return new(file, Classification.Negative, bytes);
            foreach (var label in row.Labels) yield return new(file, label, bytes);
        }
    }
}
