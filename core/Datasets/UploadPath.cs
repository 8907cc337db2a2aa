using Pipeline.Core.Contract;

namespace Pipeline.Core.Datasets;

/// <summary>What an upload is; <see cref="Unlabelled"/>: an image beside labels.csv, which gives its labels.</summary>
public enum UploadKind { Image, TrainControl, DatasetSettings, Labels, Unlabelled }

/// <summary>
/// What a blob name in uploads means: an image of a label (with the split the user chose, if any), a control blob,
/// or nothing usable (<see cref="Reason"/> says why). <see cref="Dataset"/> is set whenever the first segment is a
/// valid name.
/// </summary>
public sealed record UploadPath(string Name, string? Dataset, UploadKind Kind, string? Label = null,
    Split? UserSplit = null, string? FileName = null, string? Reason = null)
{
    public bool IsValid => Reason is null;

    /// <summary>The longest blob name Azure Storage takes.</summary>
    public const int MaxNameLength = 1024;

    public static UploadPath Parse(string name)
    {
        var segments = name.Split('/');
        if (name.Length > MaxNameLength)
            return new(name, Names.CheckDataset(segments[0]) is null ? segments[0] : null, UploadKind.Image,
                Reason: $"The path is {name.Length} characters; Azure Storage takes at most {MaxNameLength}. Use " +
                    $"shorter folder and file names.");
        var dataset = segments[0];
        if (Names.CheckDataset(dataset) is { } datasetProblem)
            return new(name, null, UploadKind.Image, Reason: datasetProblem);
        if (segments.Any(s => s.Length == 0 || s is "." or ".."))
            return new(name, dataset, UploadKind.Image, Reason: name.EndsWith('/')
                ? "The path ends with '/': it names a folder, not a file."
                : "The path has an empty, '.' or '..' segment (a URL would resolve it to another path): name " +
                    "folders and files plainly.");

        switch (segments.Length)
        {
            case 2 when segments[1] == StorageNames.TrainControlFile:
                return new(name, dataset,
                UploadKind.TrainControl);
            case 2 when segments[1] == StorageNames.DatasetSettingsFile:
                return new(name, dataset,
                UploadKind.DatasetSettings);
            case 2 when segments[1] == StorageNames.LabelsFile: return new(name, dataset, UploadKind.Labels);
            case 2: return new(name, dataset, UploadKind.Unlabelled, FileName: segments[1]);
            case 3 when IsSplitFolder(segments[1]):
                return new(name, dataset, UploadKind.Image,
                    Reason: $"'{segments[1]}/' holds label folders: put the image "
                        + $"at {dataset}/{segments[1]}/<label>/{Names.Shown(segments[2])}.");
            case 3: return Image(name, dataset, segments[1], null, segments[2]);
            case 4 when IsSplitFolder(segments[1]):
                return Image(name, dataset, segments[2], segments[1] == "train"
                ? Split.Train : Split.Test, segments[3]);
            default:
                return new(name, dataset, UploadKind.Image,
                    Reason: $"The path is too deep: use {dataset}/<label>/<file> "
                        + $"or {dataset}/train|test|val/<label>/<file>.");
        }
    }

    /// <summary>Why an image beside labels.csv that the file does not name cannot be used.</summary>
    public static string NotLabelled(string dataset, string file) =>
        $"The image is not in a label folder: put it at {dataset}/<label>/{Names.Shown(file)}, or name it in " +
        $"{dataset}/{StorageNames.LabelsFile} (file,labels).";

    private static bool IsSplitFolder(string segment) => segment is "train" or "test" or "val";

    private static UploadPath Image(string name, string dataset, string label, Split? split, string file) =>
        Names.CheckLabel(label) is { } problem
            ? new(name, dataset, UploadKind.Image, Reason: problem)
            : new(name, dataset, UploadKind.Image, Names.NormalizeLabel(label), split, file);
}
