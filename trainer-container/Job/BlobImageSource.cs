using Azure;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Storage;
using Pipeline.Trainer.Training;

namespace Pipeline.Trainer.Job;

/// <summary>
/// A job's dataset as the split left it in the train and test containers, read straight into the run's image cache:
/// no copy on disk. Files are named <c>&lt;container&gt;/&lt;dataset&gt;/&lt;label&gt;/&lt;hash&gt;.&lt;ext&gt;</c>;
/// the split names each blob by its content's hash, so equal content is found from the names, without reading it.
/// </summary>
public sealed class BlobImageSource(PipelineStorage storage, string dataset, IReadOnlyList<DatasetImage> images,
    byte[]? settings) : ImageSource
{
    /// <summary>Blobs downloaded at once: the trainer decodes on every core while they arrive.</summary>
    public const int Downloads = 16;

    public override string Description => $"dataset '{dataset}'";

    public override DatasetSettings Settings() => ParseSettings(settings);

    /// <summary>Ordered as folders are listed (label, then file, by ordinal), so a seed draws the same split and the
    /// same model from the blobs as from a copy of them on disk.</summary>
    public override (List<SourceFile> Train, List<SourceFile>? Test) List(List<SkippedFile> skipped) =>
        (Files(Split.Train), Files(Split.Test));

    public override string ContentKey(SourceFile file) => Path.GetFileNameWithoutExtension(file.Name);

    public override async Task<FileContent[]> ReadAsync(IReadOnlyList<string> names, ImageLimits limits,
        CancellationToken ct)
    {
        var contents = new FileContent[names.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Downloads, CancellationToken = ct }, async (i, token) =>
        {
            var (split, blob) = Parse(names[i]);
            // The split refused files over the limit; decoding checks it again (ImageFile.Identify), with its reason.
            try
            {
                contents[i] = new((await storage.SplitContainer(split).GetBlobClient(blob)
                    .DownloadContentAsync(token)).Value.Content.ToArray(), null);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                contents[i] = new(null, "The image was deleted from the dataset while the job ran.");
            }
        });
        return contents;
    }

    public override string MistakeImages => TestMistakes.BlobImages;

    /// <summary>The test container's blob name, which the studio opens.</summary>
    public override string MistakeName(string name) => Parse(name).Blob;

    private List<SourceFile> Files(Split split) => images.Where(i => i.Split == split)
        .OrderBy(i => i.Label, StringComparer.Ordinal).ThenBy(i => i.BlobName, StringComparer.Ordinal)
        .Select(i => new SourceFile($"{Container(split)}/{i.BlobName}", i.Label, i.Bytes)).ToList();

    private static string Container(Split split) => split == Split.Train ? StorageNames.Train : StorageNames.Test;

    private static (Split Split, string Blob) Parse(string name)
    {
        var slash = name.IndexOf('/');
        return (name[..slash] == StorageNames.Train ? Split.Train : Split.Test, name[(slash + 1)..]);
    }
}
