using System.CommandLine;
using System.Diagnostics;

namespace Pipeline.FashionMnist.Benchmarks;

/// <summary>
/// <c>write --out &lt;dir&gt; --train N --test M --seed S</c>: a stratified, seeded subset of Fashion-MNIST as PNG
/// folders per label, <c>&lt;dir&gt;/train/&lt;label&gt;/</c> from the 60,000 training images and
/// <c>&lt;dir&gt;/test/&lt;label&gt;/</c> from the 10,000 test images: the layout <c>pipeline upload</c> and
/// <c>trainer train --data --test</c> take.
/// </summary>
public static class WriteCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out")
        {
            Description = "An empty (or new) folder for train/ and test/", Required = true, HelpName = "folder",
        };
        var train = Arguments.Count("--train", "Training images (of the 60,000), the same number per label", 6000);
        var test = Arguments.Count("--test", "Test images (of the 10,000), the same number per label", 1000);
        var seed = Arguments.Seed();
        var source = Arguments.Source();
        var command = new Command("write", "Write a seeded, stratified subset as PNG folders per label")
        {
            output, train, test, seed, source,
        };
        command.SetAction(parse => Run(parse.GetRequiredValue(source), parse.GetRequiredValue(output),
            parse.GetRequiredValue(train), parse.GetRequiredValue(test), parse.GetRequiredValue(seed)));
        return command;
    }

    private static int Run(string source, string output, int train, int test, int seed)
    {
        if (FashionMnistFiles.Missing(source) is { } reason) return Arguments.Skip(reason);
        if (Directory.Exists(Path.Combine(output, "train")) || Directory.Exists(Path.Combine(output, "test")))
        {
            Console.Error.WriteLine($"error: {output} already holds train/ or test/: give an empty or new folder.");
            return 2;
        }
        var clock = Stopwatch.StartNew();
        var written = Write(source, output, train, test, seed);
        Console.WriteLine($"Wrote {written.Train} training and {written.Test} test images (seed {seed}) as PNG to " +
            $"{Path.GetFullPath(output)} in {clock.Elapsed.TotalSeconds:0.0} s");
        return 0;
    }

    /// <summary>Writes the subset; the file names keep each image's index in its IDX file.</summary>
    public static (int Train, int Test) Write(string source, string output, int train, int test, int seed)
    {
        var counts = new List<int>();
        foreach (var (part, split, total) in new[] { ("train", "train", train), ("t10k", "test", test) })
        {
            var files = FashionMnistFiles.Read(source, part);
            var chosen = files.Subset(total, seed);
            foreach (var label in FashionMnistFiles.Classes)
                Directory.CreateDirectory(Path.Combine(output, split, label));
            Parallel.ForEach(chosen, new ParallelOptions { MaxDegreeOfParallelism = 2 }, index =>
                File.WriteAllBytes(Path.Combine(output, split, FashionMnistFiles.Classes[files.Labels[index]],
                    $"{part}-{index:00000}.png"), files.Png(index)));
            counts.Add(chosen.Count);
        }
        return (counts[0], counts[1]);
    }
}
