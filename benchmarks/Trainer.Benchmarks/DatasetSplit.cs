namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// Lays out <c>dest/train/&lt;label&gt;/</c> and <c>dest/test/&lt;label&gt;/</c> as symlinks to a dataset's own files, so every route
/// trains and tests on the same images without copying them. A given train/ and test/ (or val/) split is kept;
/// otherwise each label is split seeded and stratified, the way the trainer splits a folder it is given alone.
/// </summary>
public static class DatasetSplit
{
    public const int DefaultSeed = 42;
    public const double DefaultTestFraction = 0.2;

    /// <summary>Returns the number of images per label in train and test.</summary>
    public static IReadOnlyDictionary<string, (int Train, int Test)> Make(string source, string dest, int seed = DefaultSeed,
        double testFraction = DefaultTestFraction, int? limit = null)
    {
        source = Path.GetFullPath(source);
        dest = Path.GetFullPath(dest);
        if (!Directory.Exists(source)) throw new UsageException($"The source folder '{source}' does not exist.");
        if (Directory.Exists(dest) || File.Exists(dest)) throw new UsageException($"'{dest}' exists already; give a new folder.");
        var random = new Random(seed);
        var givenTest = new[] { "test", "val" }.Select(n => Path.Combine(source, n)).FirstOrDefault(Directory.Exists);
        var givenTrain = Path.Combine(source, "train");

        if (givenTest is not null && Directory.Exists(givenTrain))
        {
            Directory.CreateDirectory(dest);
            if (limit is null)
            {
                // The whole given split: two folder links are enough.
                Directory.CreateSymbolicLink(Path.Combine(dest, "train"), givenTrain);
                Directory.CreateSymbolicLink(Path.Combine(dest, "test"), givenTest);
            }
            else
            {
                // A subset for quick checks: a seeded sample of each label on each side.
                foreach (var (side, folder) in new[] { ("train", givenTrain), ("test", givenTest) })
                    foreach (var label in Labels(folder))
                        Link(Sample(Files(Path.Combine(folder, label)), random, limit.Value), Path.Combine(dest, side, label));
            }
            return Count(dest);
        }

        var labels = Labels(source);
        if (labels.Count == 0) throw new UsageException($"'{source}' holds no label folders.");
        Directory.CreateDirectory(dest);
        foreach (var label in labels)
        {
            var files = Files(Path.Combine(source, label)).ToArray();
            random.Shuffle(files);
            var test = (int)Math.Round(files.Length * testFraction);
            // As the trainer does: a label with two or more images keeps at least one on each side.
            if (files.Length >= 2 && testFraction > 0) test = Math.Clamp(test, 1, files.Length - 1);
            Link(files[test..].Take(limit ?? int.MaxValue), Path.Combine(dest, "train", label));
            Link(files[..test].Take(limit ?? int.MaxValue), Path.Combine(dest, "test", label));
        }
        return Count(dest);
    }

    public static IReadOnlyList<string> Labels(string folder) => Directory.EnumerateDirectories(folder)
        .Select(d => Path.GetFileName(d)).Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToList();

    /// <summary>The image files of one label folder, hidden files left out, in ordinal order so a seed always picks the same.</summary>
    public static IReadOnlyList<string> Files(string labelFolder) => Directory.EnumerateFiles(labelFolder)
        .Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToList();

    private static IEnumerable<string> Sample(IReadOnlyList<string> files, Random random, int limit)
    {
        var shuffled = files.ToArray();
        random.Shuffle(shuffled);
        return shuffled.Take(limit).Order(StringComparer.Ordinal);
    }

    private static void Link(IEnumerable<string> files, string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (var file in files) File.CreateSymbolicLink(Path.Combine(folder, Path.GetFileName(file)), file);
    }

    private static Dictionary<string, (int, int)> Count(string dest) =>
        Labels(Path.Combine(dest, "train")).Union(Labels(Path.Combine(dest, "test"))).Order(StringComparer.Ordinal)
            .ToDictionary(l => l, l => (Size(Path.Combine(dest, "train", l)), Size(Path.Combine(dest, "test", l))));

    private static int Size(string folder) => Directory.Exists(folder) ? Files(folder).Count : 0;

    /// <summary><c>split &lt;source&gt; &lt;dest&gt; [--seed 42] [--test 0.2] [--limit n]</c></summary>
    public static int Command(IEnumerable<string> args)
    {
        var a = new Arguments(args, "--seed", "--test", "--limit");
        if (a.Positionals.Count != 2) throw new UsageException("split takes <source> <dest>.");
        var counts = Make(a.Positionals[0], a.Positionals[1], a.Int("--seed", min: 0) ?? DefaultSeed, a.Number("--test", DefaultTestFraction, 1), a.Int("--limit"));
        foreach (var (label, (train, test)) in counts) Console.WriteLine($"{label}: {train} train, {test} test");
        Console.WriteLine($"total: {counts.Values.Sum(c => c.Train)} train, {counts.Values.Sum(c => c.Test)} test in {Path.GetFullPath(a.Positionals[1])}");
        return 0;
    }
}
