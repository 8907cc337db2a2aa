using System.CommandLine;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// Lays out <c>dest/train/&lt;label&gt;/</c> and <c>dest/test/&lt;label&gt;/</c> as symlinks to a dataset's own
/// files, so every route trains and tests on the same images without copying them. A folder without a split is
/// split per label, seeded and stratified. A dataset that comes with train/ and test/ (or val/) keeps that split at
/// seed 0; any other seed pools each label's train and test images and draws the same number of test images from
/// them again.
/// </summary>
public static class DatasetSplit
{
    /// <summary>Seed 0 keeps a given split, so the figures stay comparable with the dataset's published ones.</summary>
    public const int GivenSplitSeed = 0;
    public const double DefaultTestFraction = 0.2;

    /// <summary>Returns the number of images per label in train and test.</summary>
    public static IReadOnlyDictionary<string, (int Train, int Test)> Make(string source, string dest, int seed,
        double testFraction = DefaultTestFraction, int? limit = null)
    {
        source = Path.GetFullPath(source);
        dest = Path.GetFullPath(dest);
        if (!Directory.Exists(source)) throw new UsageException($"The source folder '{source}' does not exist.");
        if (Directory.Exists(dest) || File.Exists(dest))
            throw new UsageException($"'{dest}' exists already; give a new folder.");
        var random = new Random(seed);
        var givenTest = new[] { "test", "val" }.Select(n => Path.Combine(source, n)).FirstOrDefault(Directory.Exists);
        var givenTrain = Path.Combine(source, "train");
        Directory.CreateDirectory(dest);

        if (givenTest is not null && Directory.Exists(givenTrain))
        {
            if (seed == GivenSplitSeed && limit is null)
            {
                // The whole given split: two folder links are enough.
                Directory.CreateSymbolicLink(Path.Combine(dest, "train"), givenTrain);
                Directory.CreateSymbolicLink(Path.Combine(dest, "test"), givenTest);
            }
            else if (seed == GivenSplitSeed)
            {
                // A subset of the given split for quick checks: a seeded sample of each label on each side.
                foreach (var (side, folder) in new[] { ("train", givenTrain), ("test", givenTest) })
                    foreach (var label in Labels(folder))
                        Link(Sample(Files(Path.Combine(folder, label)), random, limit ?? int.MaxValue),
                            Path.Combine(dest, side, label));
            }
            else
            {
                // Another split of the same images: each label keeps its given number of test images.
                foreach (var label in Labels(givenTrain).Union(Labels(givenTest)).Order(StringComparer.Ordinal))
                {
                    var train = FilesIfAny(Path.Combine(givenTrain, label));
                    var test = FilesIfAny(Path.Combine(givenTest, label));
                    Deal([.. train, .. test], test.Count, random, dest, label, limit);
                }
            }
            return Count(dest);
        }

        var labels = Labels(source);
        if (labels.Count == 0) throw new UsageException($"'{source}' holds no label folders.");
        foreach (var label in labels)
        {
            var files = Files(Path.Combine(source, label));
            var test = (int)Math.Round(files.Count * testFraction);
            // As the trainer does: a label with two or more images keeps at least one on each side.
            if (files.Count >= 2 && testFraction > 0) test = Math.Clamp(test, 1, files.Count - 1);
            Deal(files, test, random, dest, label, limit);
        }
        return Count(dest);
    }

    public static IReadOnlyList<string> Labels(string folder) => Directory.EnumerateDirectories(folder)
        .Select(d => Path.GetFileName(d)).Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The image files of one label folder, hidden files left out, in ordinal order so a seed always picks the same.
    /// </summary>
    public static IReadOnlyList<string> Files(string labelFolder) => Directory.EnumerateFiles(labelFolder)
        .Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToList();

    private static IReadOnlyList<string> FilesIfAny(string labelFolder) =>
        Directory.Exists(labelFolder) ? Files(labelFolder) : [];

    /// <summary>Shuffles one label's files; the first <paramref name="test"/> become test, the rest train.</summary>
    private static void Deal(IReadOnlyList<string> files, int test, Random random, string dest, string label,
        int? limit)
    {
        var shuffled = files.ToArray();
        random.Shuffle(shuffled);
        Link(shuffled[test..].Take(limit ?? int.MaxValue), Path.Combine(dest, "train", label));
        Link(shuffled[..test].Take(limit ?? int.MaxValue), Path.Combine(dest, "test", label));
    }

    private static IEnumerable<string> Sample(IReadOnlyList<string> files, Random random, int limit)
    {
        var shuffled = files.ToArray();
        random.Shuffle(shuffled);
        return shuffled.Take(limit).Order(StringComparer.Ordinal);
    }

    private static void Link(IEnumerable<string> files, string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (var file in files)
        {
            var link = Path.Combine(folder, Path.GetFileName(file));
            // Pooled train and test folders may share a file name: the second keeps its side's name in front.
            if (File.Exists(link))
            {
                var side = Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(file)));
                link = Path.Combine(folder, $"{side}-{Path.GetFileName(file)}");
            }
            File.CreateSymbolicLink(link, file);
        }
    }

    private static Dictionary<string, (int, int)> Count(string dest) =>
        Labels(Path.Combine(dest, "train")).Union(Labels(Path.Combine(dest, "test"))).Order(StringComparer.Ordinal)
            .ToDictionary(l => l, l => (Size(Path.Combine(dest, "train", l)), Size(Path.Combine(dest, "test", l))));

    private static int Size(string folder) => Directory.Exists(folder) ? Files(folder).Count : 0;

    /// <summary><c>split &lt;source&gt; &lt;dest&gt; [--seed 0] [--test 0.2] [--limit n]</c></summary>
    public static Command CreateCommand()
    {
        var source = new Argument<string>("source")
        {
            Description = "The dataset: label folders, or train/ and test/ (or val/) of them",
        };
        var dest = new Argument<string>("dest") { Description = "A new folder to get train/ and test/ as symlinks" };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the split; 0 keeps a given train/test split, any other re-splits it with the same " +
                "test share per label",
            DefaultValueFactory = _ => GivenSplitSeed,
            CustomParser = r => CommandLineValues.Whole(r, 0),
            HelpName = "n",
        };
        var test = new Option<double>("--test")
        {
            Description = "Test share per label for a folder without a split",
            DefaultValueFactory = _ => DefaultTestFraction,
            CustomParser = r => CommandLineValues.Fraction(r, 1),
            HelpName = "fraction",
        };
        var limit = LimitOption();
        var command = new Command("split",
            "Symlinks dest/train/<label>/ and dest/test/<label>/ to a dataset's images (never copies)")
        {
            source, dest, seed, test, limit,
        };
        command.SetAction(parse =>
        {
            var folder = parse.GetRequiredValue(dest);
            var counts = Make(parse.GetRequiredValue(source), folder, parse.GetValue(seed), parse.GetValue(test),
                parse.GetValue(limit));
            foreach (var (label, (train, tested)) in counts)
                Console.WriteLine($"{label}: {train} train, {tested} test");
            var (trainTotal, testTotal) = (counts.Values.Sum(c => c.Train), counts.Values.Sum(c => c.Test));
            Console.WriteLine($"total: {trainTotal} train, {testTotal} test " +
                $"in {Path.GetFullPath(folder)}");
            return 0;
        });
        return command;
    }

    /// <summary><c>--limit n</c>: at most n images per label in train and in test, for quick checks.</summary>
    public static Option<int?> LimitOption() => new("--limit")
    {
        Description = "At most n images per label in train and in test (quick checks)",
        CustomParser = r => CommandLineValues.Whole(r, 1),
        HelpName = "n",
    };
}
