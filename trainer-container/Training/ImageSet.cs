using Pipeline.Core.Contract;
using Pipeline.Core.Images;

namespace Pipeline.Trainer.Training;

/// <summary>
/// One usable image: its file, its label index (multilabel: its first label, or the number of labels for one with
/// none, the key that stratifies splits and folds), its preprocessed pixels (3 x 224 x 224 BGR bytes), held in
/// memory or in the run's image cache file, and <see cref="Targets"/>, every label it has.
/// </summary>
public sealed record LabelledImage
{
    private readonly byte[]? held;
    private readonly ScratchFile? file;
    private readonly long offset;

    public LabelledImage(string path, int label, byte[] pixels)
    {
        (Path, Label, held, PixelCount) = (path, label, pixels, pixels.Length);
        Targets = [label];
    }

    /// <summary>The same image with its pixels moved to <paramref name="cache"/> at
    /// <paramref name="at"/>.</summary>
    internal LabelledImage(LabelledImage image, ScratchFile cache, long at)
    {
        (Path, Label, Targets, PixelCount) = (image.Path, image.Label, image.Targets, image.PixelCount);
        (file, offset) = (cache, at);
    }

    public string Path { get; init; }
    public int Label { get; init; }
    /// <summary>Multiclass: the one label; multilabel: zero or more label indices.</summary>
    public IReadOnlyList<int> Targets { get; init; }
    public int PixelCount { get; }

    /// <summary>The pixels: the array held, or a copy read from the cache file.</summary>
    public byte[] Pixels
    {
        get
        {
            if (held is not null) return held;
            var pixels = new byte[PixelCount];
            CopyPixels(pixels);
            return pixels;
        }
    }

    /// <summary>Writes the pixels into <paramref name="into"/> without an array of their own.</summary>
    public void CopyPixels(Span<byte> into)
    {
        if (held is not null) held.CopyTo(into);
        else file!.Read(offset, into[..PixelCount]);
    }
}

/// <summary>
/// A labelled dataset (folders on disk, or a job's blobs: see <see cref="ImageSource"/>) decoded once and split into
/// train, validation and test. A given test split is respected; otherwise a seeded, stratified 20 % becomes the test
/// split. Validation is always carved from train. The same content under several labels is one image with all of them
/// (multilabel) or a conflict left out (multiclass). The test split is chosen among the files and decoded only when
/// the model is evaluated.
/// </summary>
public sealed class ImageSet
{
    public const double DefaultTestFraction = 0.2;
    public const int MinimumPerLabel = Pipeline.Core.Datasets.Trainability.MinimumImagesPerLabel;
    private const int DecodeChunk = 256;
    private const long ChunkBytes = 64L << 20;
    private const long PixelBytes = 3L * Preprocessing.Size * Preprocessing.Size;

    /// <summary>The model's outputs: every label folder, Negative too for multiclass, never for multilabel.</summary>
    public required IReadOnlyList<string> Labels { get; init; }
    public bool Multilabel { get; init; }
    public required IReadOnlyList<LabelledImage> Train { get; init; }
    public required IReadOnlyList<LabelledImage> Validation { get; init; }
    /// <summary>Decoded on first use: the test split waits until evaluation, outside the time to a model.</summary>
    public IReadOnlyList<LabelledImage> Test => PendingTest.Value;
    internal Lazy<IReadOnlyList<LabelledImage>> PendingTest { get; init; } = new(() => []);
    /// <summary>The test split's size before it is decoded: its files, any of which evaluation may still
    /// refuse.</summary>
    public int TestFiles { get; private init; }
    public required IReadOnlyList<SkippedFile> Skipped { get; init; }
    public required bool SplitGiven { get; init; }
    /// <summary>Where the images were read.</summary>
    public required ImageSource Source { get; init; }
    /// <summary>Where the run's caches go (memory under its cap, else disk); null: all in memory.</summary>
    public CacheSpace? Caches { get; init; }

    /// <summary>What the model is: multiclass or multilabel.</summary>
    public string Classification => Multilabel ? Core.Contract.Classification.Multilabel
        : Core.Contract.Classification.Multiclass;

    /// <summary>The output that means "no label": a multiclass dataset's Negative folder, else null.</summary>
    public string? NegativeLabel => !Multilabel && Labels.Contains(Core.Contract.Classification.Negative)
        ? Core.Contract.Classification.Negative : null;

    /// <summary>A dataset in folders (<see cref="FolderImageSource"/>).</summary>
    public static ImageSet Load(string dataFolder, string? testFolder, TrainingOptions options,
        ImageLimits? limits = null, CancellationToken ct = default,
        string? dataset = null, CacheSpace? caches = null) =>
        Load(new FolderImageSource(dataFolder, testFolder), options, limits, ct, dataset, caches);

    /// <param name="dataset">The dataset's name when the source is a job's: refusals name it, not the
    /// source.</param>
    public static ImageSet Load(ImageSource source, TrainingOptions options, ImageLimits? limits = null,
        CancellationToken ct = default, string? dataset = null, CacheSpace? caches = null)
    {
        var multilabel = source.Settings().Multilabel;
        var skipped = new List<SkippedFile>();
        var (trainFiles, testFiles) = source.List(skipped);
        // Negative counts as a label here: one label and Negative is a dataset ("defect or not").
        var folders = trainFiles.Select(f => f.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        if (folders.Count < 2)
            throw new DatasetRefusedException(dataset is null
                ? $"'{source.Description}' holds {folders.Count} label folder(s); at least 2 are needed (a " +
                    $"Negative folder of images of no label counts), one folder per label with its images inside."
                : $"Dataset '{dataset}' has {folders.Count} label(s) with training " +
                    $"images{(folders.Count > 0 ? $" ('{string.Join("', '", folders)}')" : "")}; " +
                  $"at least 2 are needed (a Negative folder of images of no label counts). Upload each label's " +
                  $"images to uploads/{dataset}/<label>/.");
        var labels = multilabel ? folders.Where(f => f != Core.Contract.Classification.Negative).ToList() : folders;
        var resize = Preprocessing.Validate(options.Resize);
        var trainImages = LabelledFiles.Group(source, trainFiles, labels, multilabel, skipped);
        var random = new Random(options.Seed);
        var splitGiven = testFiles is not null;
        var keys = labels.Count + 1;
        List<LabelledFiles.Candidate> testImages;
        if (testFiles is not null)
        {
            skipped.AddRange(testFiles.Where(f => !folders.Contains(f.Label)).Select(f => f.Name).Distinct()
                .Select(f => new SkippedFile(f,
                    "This label has no folder in the training data, so the model cannot learn it.")));
            testImages = LabelledFiles.Group(source, testFiles.Where(f => folders.Contains(f.Label)).ToList(),
                labels, multilabel, skipped);
            var trained = trainImages.Select(c => c.Hash).ToHashSet();
            foreach (var leak in testImages.Where(c => trained.Contains(c.Hash)))
                skipped.Add(new SkippedFile(leak.File, "The same image is in the training split; it is trained on, " +
                    "not tested."));
            testImages = testImages.Where(c => !trained.Contains(c.Hash)).ToList();
        }
        else (trainImages, testImages) = Stratify(trainImages, c => c.Label, keys, DefaultTestFraction, random);
        var train = Decode(source, trainImages, resize, limits ?? ImageLimits.Default, skipped, caches, ct);

        // Test files count here as candidates: they are decoded (and any refused) only when the model is evaluated.
        int Count(int key) => train.Count(x => Has(x.Targets, key, labels.Count))
            + testImages.Count(x => Has(x.Targets, key, labels.Count));
        var tooFew = folders.Select(f => (l: f, n: Count(labels.IndexOf(f) is var i and >= 0 ? i : labels.Count)))
            .Where(x => x.n < MinimumPerLabel).ToList();
        if (tooFew.Count > 0)
            throw new DatasetRefusedException((dataset is null ? "" : $"Dataset '{dataset}': ")
                + "Each label needs at least " + MinimumPerLabel + " usable images (Negative too); too few in: " +
                string.Join(", ", tooFew.Select(x => $"'{x.l}' ({x.n})")) + ".");

        var test = new Lazy<IReadOnlyList<LabelledImage>>(() => Decode(source, testImages, resize,
            limits ?? ImageLimits.Default, skipped, caches, CancellationToken.None));
        var (fit, validation) = Stratify(train, x => x.Label, keys, options.ValidationFraction, random);
        if (validation.Count == 0) (fit, validation) = (train, []);
        return new ImageSet
        {
            Labels = labels, Multilabel = multilabel, Train = fit, Validation = validation, PendingTest = test,
            Skipped = skipped, SplitGiven = splitGiven, TestFiles = testImages.Count,
            Source = source, Caches = caches,
        };
    }

    /// <summary>Images per label and split; a multilabel dataset's Negative images (no label) as "Negative".</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Counts()
    {
        var keys = Labels.Select((l, i) => (l, i)).ToList();
        if (Multilabel && Train.Concat(Validation).Concat(Test).Any(t => t.Targets.Count == 0))
            keys.Add((Core.Contract.Classification.Negative, Labels.Count));
        return keys.ToDictionary(x => x.l, x => (IReadOnlyDictionary<string, int>)new Dictionary<string, int>
        {
            ["train"] = Train.Count(t => Has(t.Targets, x.i, Labels.Count)),
            ["validation"] = Validation.Count(t => Has(t.Targets, x.i, Labels.Count)),
            ["test"] = Test.Count(t => Has(t.Targets, x.i, Labels.Count)),
        });
    }

    /// <summary>Whether an image counts for label <paramref name="key"/>; key <paramref name="none"/>: no
    /// label.</summary>
    private static bool Has(IReadOnlyList<int> targets, int key, int none) =>
        key == none ? targets.Count == 0 : targets.Contains(key);

    /// <summary>
    /// Decodes and preprocesses every file once; the pixels stay in memory where they fit under the caches' cap, else
    /// each chunk is written to an image cache file as soon as it is decoded, so that memory holds one chunk. The
    /// next chunk's files are read (from storage, over the network) while one decodes.
    /// </summary>
    private static List<LabelledImage> Decode(ImageSource source, List<LabelledFiles.Candidate> files, string resize,
        ImageLimits limits, List<SkippedFile> skipped, CacheSpace? caches, CancellationToken ct)
    {
        var results = new LabelledImage?[files.Count];
        var reasons = new string?[files.Count];
        var cache = caches is null || caches.TryHold((long)files.Count * PixelBytes) ? null
            : caches.CreateFile("images");
        long written = 0;
        var chunks = Chunks(files);
        Task<FileContent[]> Read(int c) => source.ReadAsync(
            files[chunks[c].Start..chunks[c].End].Select(f => f.File).ToList(), limits, ct);
        var reading = chunks.Count > 0 ? Read(0) : null;
        // In chunks, with decoding's garbage and pooled buffers given back after each: decoded whole, 1,600 small JPEGs
        // took the process to 2.1 GB before the first pass had begun (measured here); only the 150 KB a image stays.
        for (var c = 0; c < chunks.Count; c++)
        {
            var (start, end) = chunks[c];
            var contents = reading!.GetAwaiter().GetResult();
            reading = c + 1 < chunks.Count ? Read(c + 1) : null;
            Parallel.For(start, end, new ParallelOptions { CancellationToken = ct }, k =>
            {
                var (file, _, label, targets, _) = files[k];
                if (contents[k - start].Bytes is not { } content)
                {
                    reasons[k] = contents[k - start].Reason;
                    return;
                }
                try
                {
                    using var image = ImageFile.Decode(content, limits);
                    results[k] = new LabelledImage(file, label, Preprocessing.ToBytes(image, resize))
                    {
                        Targets = targets,
                    };
                }
                catch (ImageRejectedException e) { reasons[k] = e.Reason; }
            });
            for (var k = start; cache is not null && k < end; k++)
                if (results[k] is { } decoded)
                {
                    cache.Write(written, decoded.Pixels);
                    results[k] = new LabelledImage(decoded, cache, written);
                    written += decoded.PixelCount;
                }
            if (reading is not null) ProcessMemory.Collect();
        }
        for (var k = 0; k < files.Count; k++)
            if (reasons[k] is { } reason) skipped.Add(new SkippedFile(files[k].File, reason));
        return results.OfType<LabelledImage>().ToList();
    }

    /// <summary>Runs of files decoded together: at most <see cref="DecodeChunk"/> files and, since one run is read
    /// while another decodes, at most <see cref="ChunkBytes"/> of them (one file over it is a run alone).</summary>
    private static List<(int Start, int End)> Chunks(List<LabelledFiles.Candidate> files)
    {
        var chunks = new List<(int, int)>();
        for (int start = 0, end; start < files.Count; start = end)
        {
            long bytes = 0;
            for (end = start; end < files.Count && end - start < DecodeChunk
                && (end == start || bytes + files[end].Bytes <= ChunkBytes); end++)
                bytes += files[end].Bytes;
            chunks.Add((start, end));
        }
        return chunks;
    }

    /// <summary>Moves a share of each label (its <paramref name="key"/>) to the second list, at least one where a
    /// label has two or more.</summary>
    private static (List<T> Keep, List<T> Moved) Stratify<T>(
        IReadOnlyList<T> items, Func<T, int> key, int labels, double fraction, Random random)
    {
        List<T> keep = [], moved = [];
        for (var label = 0; label < labels; label++)
        {
            var mine = items.Where(x => key(x) == label).ToArray();
            random.Shuffle(mine);
            var n = mine.Length < 2 || fraction <= 0
                ? 0
                : Math.Clamp((int)Math.Round(mine.Length * fraction), 1, mine.Length - 1);
            moved.AddRange(mine.Take(n));
            keep.AddRange(mine.Skip(n));
        }
        return (keep, moved);
    }
}
