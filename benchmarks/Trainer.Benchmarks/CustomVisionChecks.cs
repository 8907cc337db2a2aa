using System.CommandLine;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// Two checks of what Custom Vision users rely on, on real photos: a multilabel set made of flowers-small side by side
/// (each image two photos of different or the same kind: two labels or one), and the Negative label (hymenoptera
/// with cats-vs-dogs photos as Negative, scored on held-out cats and dogs, beside hymenoptera without it).
/// </summary>
public static class CustomVisionChecks
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command MultilabelCommand()
    {
        var (shared, seed, output) = (Shared(), Seed(), Output());
        var pairs = new Option<int>("--pairs")
        {
            Description = "Images of each kind (two labels, one label), train and test together",
            DefaultValueFactory = _ => 300,
            CustomParser = r => CommandLineValues.Whole(r, 10),
        };
        var command = new Command("multilabel", "flowers-small side by side as a multilabel set: trains it (default " +
            "setting, squashed to the square) and prints mean average precision and exact-match accuracy on its test " +
            "split") { shared, seed, pairs, output };
        command.SetAction(parse =>
        {
            var repo = BenchmarkRun.RepoRoot();
            var source = Path.Combine(BenchmarkRun.DatasetsFolder(parse.GetValue(shared), repo), "flowers-small");
            var work = Directory.CreateTempSubdirectory("multilabel-flowers-").FullName;
            try
            {
                var data = Path.Combine(work, "data");
                var made = WritePairs(source, data, parse.GetValue(seed), parse.GetValue(pairs));
                var run = Train(repo, data, Path.Combine(work, "model"), parse.GetValue(seed), "multilabel",
                    ["--resize", "squash"]);
                var m = Metrics(run);
                var line = $"flowers-small pairs (seed {parse.GetValue(seed)}; {made}): mean average precision " +
                    $"{m.GetProperty("meanAveragePrecision").GetDouble():0.000}, exact-match accuracy " +
                    $"{m.GetProperty("accuracy").GetDouble():P1}, " +
                    $"micro F1 {m.GetProperty("microF1").GetDouble():0.000}, " +
                    $"macro F1 {m.GetProperty("macroF1").GetDouble():0.000}; {run.WallSeconds:0} s";
                return Report(line, run, parse.GetValue(output));
            }
            finally { Directory.Delete(work, recursive: true); }
        });
        return command;
    }

    public static Command NegativeCommand()
    {
        var (shared, seed, output) = (Shared(), Seed(), Output());
        var perKind = new Option<int>("--negatives")
        {
            Description = "Cats and dogs each, as Negative training images (held-out ones: the cats-vs-dogs test " +
                "split)",
            DefaultValueFactory = _ => 60,
            CustomParser = r => CommandLineValues.Whole(r, 5),
        };
        var command = new Command("negative", "hymenoptera with cats-vs-dogs as Negative (multiclass, default " +
            "setting): the share of held-out cats and dogs that come back as Negative, and ants/bees accuracy beside " +
            "hymenoptera trained without Negative") { shared, seed, perKind, output };
        command.SetAction(parse =>
        {
            var repo = BenchmarkRun.RepoRoot();
            var datasets = BenchmarkRun.DatasetsFolder(parse.GetValue(shared), repo);
            var work = Directory.CreateTempSubdirectory("negative-hymenoptera-").FullName;
            try
            {
                var s = parse.GetValue(seed);
                // Every folder here is made new and filled with file links: a folder link to the shared set (as
                // DatasetSplit makes for a whole given split) would put Negative inside the shared set itself.
                var plain = Path.Combine(work, "plain");
                var with = Path.Combine(work, "with");
                var hymenoptera = Path.Combine(datasets, "hymenoptera");
                foreach (var (side, given) in new[] { ("train", "train"), ("test", "val") })
                    foreach (var label in new[] { "ants", "bees" })
                        foreach (var root in new[] { plain, with })
                            Link(Directory.GetFiles(Path.Combine(hymenoptera, given, label)),
                                Path.Combine(root, side, label), null);
                var random = new Random(s);
                var dogsAndCats = Path.Combine(datasets, "cats-vs-dogs");
                foreach (var kind in new[] { "cats", "dogs" })
                {
                    Link(Sample(Path.Combine(dogsAndCats, "train", kind), random, parse.GetValue(perKind)),
                        Path.Combine(with, "train", "Negative"), kind);
                    Link(Sample(Path.Combine(dogsAndCats, "test", kind), random, int.MaxValue),
                        Path.Combine(with, "test", "Negative"), kind);
                }
                var without = Train(repo, plain, Path.Combine(work, "plain-model"), s, null, []);
                var negative = Train(repo, with, Path.Combine(work, "with-model"), s, null, []);
                var (noLabel, antsBees) = NegativeFigures(negative);
                var line = $"hymenoptera + {2 * parse.GetValue(perKind)} cats-vs-dogs as Negative (seed {s}): " +
                    $"held-out cats and dogs called Negative {noLabel:P1}; ants/bees accuracy {antsBees:P1} with " +
                    $"Negative, {Metrics(without).GetProperty("accuracy").GetDouble():P1} without; " +
                    $"{negative.WallSeconds:0} s and {without.WallSeconds:0} s";
                return Report(line, negative, parse.GetValue(output));
            }
            finally { Directory.Delete(work, recursive: true); }
        });
        return command;
    }

    /// <summary>
    /// Photos split per label first (80 % for train pairs), so no photo is in both a train and a test image; then
    /// seeded pairs, half of two labels and half of one, written side by side under each of their labels.
    /// </summary>
    private static string WritePairs(string source, string data, int seed, int perKind)
    {
        var random = new Random(seed);
        var labels = Directory.GetDirectories(source).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var pools = labels.ToDictionary(l => l!, l =>
        {
            var files = Directory.GetFiles(Path.Combine(source, l!)).Order(StringComparer.Ordinal).ToArray();
            random.Shuffle(files);
            var test = (int)Math.Round(files.Length * 0.2);
            return (Train: files[test..], Test: files[..test]);
        });
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(data).FullName, "dataset.json"),
            """{ "classification": "multilabel" }""");
        var written = 0;
        foreach (var (side, count) in new[] { ("train", perKind * 4 / 5), ("test", perKind - perKind * 4 / 5) })
            for (var i = 0; i < 2 * count; i++)
            {
                var a = labels[random.Next(labels.Count)]!;
                var b = i % 2 == 0 ? a : labels.Where(l => l != a).ElementAt(random.Next(labels.Count - 1))!;
                string Pick(string label)
                {
                    var pool = side == "train" ? pools[label].Train : pools[label].Test;
                    return pool[random.Next(pool.Length)];
                }
                var left = Pick(a);
                var right = Pick(b);
                while (right == left) right = Pick(b);
                using var image = new Image<Rgb24>(256, 128);
                foreach (var (file, x) in new[] { (left, 0), (right, 128) })
                {
                    using var photo = Image.Load<Rgb24>(file);
                    photo.Mutate(p => p.Resize(128, 128));
                    image.Mutate(p => p.DrawImage(photo, new Point(x, 0), 1f));
                }
                foreach (var label in new[] { a, b }.Distinct())
                    image.SaveAsJpeg(Path.Combine(Directory.CreateDirectory(Path.Combine(data, side, label)).FullName,
                        $"pair-{i:0000}.jpg"));
                written++;
            }
        return $"{written} images, half of two labels and half of one";
    }

    private static ChildRun Train(string repo, string data, string model, int seed, string? kind, string[] flags)
    {
        var run = ChildRun.Run("dotnet", [BenchmarkRun.TrainerDll(repo), "train", "--data", data, "--out", model,
            "--seed", $"{seed}", .. flags], kind ?? Path.GetFileName(data));
        if (run.Result is null)
            throw new InvalidOperationException($"The trainer failed on {data} (exit {run.ExitCode}).");
        return run;
    }

    private static JsonElement Manifest(ChildRun run)
    {
        var modelPath = run.Result!.Value.GetProperty("modelPath").GetString()!;
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(modelPath)!,
            "model.json")));
        return document.RootElement.Clone();
    }

    private static JsonElement Metrics(ChildRun run) => Manifest(run).GetProperty("metrics");

    /// <summary>From the confusion matrix: Negative's recall, and accuracy over the ants and bees test
    /// images.</summary>
    private static (double NoLabel, double AntsBees) NegativeFigures(ChildRun run)
    {
        var manifest = Manifest(run);
        var labels = manifest.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToList();
        var rows = manifest.GetProperty("metrics").GetProperty("confusionMatrix").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToList();
        var negative = labels.IndexOf("Negative");
        double Share(IEnumerable<int> which) =>
            which.Sum(k => rows[k][k]) / (double)Math.Max(1, which.Sum(k => rows[k].Sum()));
        return (Share([negative]), Share(Enumerable.Range(0, labels.Count).Where(k => k != negative)));
    }

    private static int Report(string line, ChildRun run, string? output)
    {
        Console.WriteLine(line);
        if (output is null) return 0;
        Directory.CreateDirectory(output);
        var file = Path.Combine(output, $"check-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        File.WriteAllText(file, JsonSerializer.Serialize(new { line, metrics = Metrics(run) }, Indented));
        Console.Error.WriteLine($"Wrote {file}");
        return 0;
    }

    private static IEnumerable<string> Sample(string folder, Random random, int count)
    {
        var files = Directory.GetFiles(folder).Order(StringComparer.Ordinal).ToArray();
        random.Shuffle(files);
        return files.Take(count);
    }

    /// <summary>Links to <paramref name="files"/> in a folder of the benchmark's own (never a linked one).</summary>
    private static void Link(IEnumerable<string> files, string folder, string? prefix)
    {
        if (Directory.Exists(folder) && new DirectoryInfo(folder).LinkTarget is not null)
            throw new InvalidOperationException(
                $"'{folder}' is a link; the benchmark writes only into its own folders.");
        Directory.CreateDirectory(folder);
        foreach (var file in files)
        {
            var name = prefix is null ? Path.GetFileName(file) : $"{prefix}-{Path.GetFileName(file)}";
            File.CreateSymbolicLink(Path.Combine(folder, name), file);
        }
    }

    private static Option<string?> Shared() => new("--shared")
    {
        Description = "The datasets folder [default: ../shared/datasets beside the repository]",
        HelpName = "folder",
    };

    private static Option<int> Seed() => new("--seed")
    {
        Description = "Seed of the images drawn and of the trainer",
        DefaultValueFactory = _ => 1,
        CustomParser = r => CommandLineValues.Whole(r, 0),
    };

    private static Option<string?> Output() => new("--out")
    {
        Description = "Folder for a check-<date>.json with the figures [default: none, printed only]",
        HelpName = "folder",
    };
}
