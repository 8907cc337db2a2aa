using Pipeline.Core.Contract;
using Pipeline.Core.Images;

namespace Pipeline.Trainer.Training;

/// <summary>One file of a dataset: its name where its source reads it, the label it is filed under, its size.
/// </summary>
public sealed record SourceFile(string Name, string Label, long Bytes);

/// <summary>A file's content, or why it could not be read.</summary>
public readonly record struct FileContent(byte[]? Bytes, string? Reason);

/// <summary>
/// Where a training run reads a dataset's files: a folder on disk (<see cref="FolderImageSource"/>, the command
/// line), or a job's blobs, read from storage straight into the run's image cache. The image set lists, reads and
/// decodes through it, so both are split, decoded and cached the same way.
/// </summary>
public abstract class ImageSource
{
    /// <summary>What the run says it reads, and where refusals about its folders point.</summary>
    public abstract string Description { get; }

    /// <summary>dataset.json's settings, or the defaults where there is none.</summary>
    public abstract DatasetSettings Settings();

    /// <summary>The training split's files and, where the split is given, the test split's; null: the test split is
    /// carved from training.</summary>
    public abstract (List<SourceFile> Train, List<SourceFile>? Test) List(List<SkippedFile> skipped);

    /// <summary>A key equal for equal content: the same image under two labels is one image (or a conflict).
    /// </summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public abstract string ContentKey(SourceFile file);

    /// <summary>The files' contents in order, read several at a time; a file that cannot be read gets its reason
    /// instead. A source may stop at the byte limit while reading; decoding checks it either way.</summary>
    public abstract Task<FileContent[]> ReadAsync(IReadOnlyList<string> names, ImageLimits limits,
        CancellationToken ct);

    /// <summary>What mistakes.json's image names are (<see cref="TestMistakes.FileImages"/> or
    /// <see cref="TestMistakes.BlobImages"/>), and the name it gives a test file.</summary>
    public abstract string MistakeImages { get; }
    public abstract string MistakeName(string name);

    /// <summary>dataset.json's content read as the trainer reads it: a file it cannot parse refuses the
    /// dataset.</summary>
    protected static DatasetSettings ParseSettings(byte[]? content) =>
        content is null ? new DatasetSettings()
            : DatasetSettings.Parse(content, out var reason)
                ?? throw new DatasetRefusedException($"{DatasetSettings.FileName}: {reason}");
}
