using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;

namespace Pipeline.Scoring.Benchmarks;

/// <summary>
/// <c>session</c>: one ONNX Runtime session of a model version, run by several callers at once, for each intra-op
/// thread count, spinning setting, number of concurrent callers and batch size. Images are decoded and preprocessed
/// once beforehand, so the figures are the session's alone (a request adds its decoding on top).
/// </summary>
public static class SessionCommand
{
    public static Command Create()
    {
        var model = Arguments.Model();
        var images = Arguments.Images();
        var threads = Arguments.Ints("--threads", "Intra-op thread counts", [1, 2]);
        var callers = Arguments.Ints("--callers", "Concurrent callers of the one session", [1, 2, 4]);
        var batches = Arguments.Ints("--batch", "Images per run", [1, 4, 8]);
        var spinning = new Option<IReadOnlyList<bool>>("--spinning")
        {
            Description = "Whether idle intra-op threads spin (ONNX Runtime's default) or sleep",
            DefaultValueFactory = _ => [true, false],
            CustomParser = r => [.. Arguments.Split(r).Select(bool.Parse)],
        };
        var seconds = new Option<double>("--seconds")
        {
            Description = "Seconds each combination runs (after one warm-up run per caller)",
            DefaultValueFactory = _ => 5,
        };
        var rounds = new Option<int>("--rounds")
        {
            Description = "Rounds over every combination; each figure is the median round",
            DefaultValueFactory = _ => 3,
        };
        var command = new Command("session", "Images/s of one session per intra-op threads, spinning, callers and " +
            "batch size")
        { model, images, threads, callers, batches, spinning, seconds, rounds };
        command.SetAction(parse => Run(parse.GetRequiredValue(model), parse.GetRequiredValue(images),
            parse.GetRequiredValue(threads), parse.GetRequiredValue(spinning), parse.GetRequiredValue(callers),
            parse.GetRequiredValue(batches), parse.GetRequiredValue(seconds), parse.GetRequiredValue(rounds)));
        return command;
    }

    private static int Run(string modelFolder, string imageFolder, IReadOnlyList<int> threadCounts,
        IReadOnlyList<bool> spinnings, IReadOnlyList<int> callerCounts, IReadOnlyList<int> batchSizes, double seconds,
        int rounds)
    {
        var model = File.ReadAllBytes(Path.Combine(modelFolder, ModelFiles.Model));
        var manifest = ModelFiles.ReadManifest(File.ReadAllText(Path.Combine(modelFolder, ModelFiles.Manifest)));
        const int one = 3 * Preprocessing.Size * Preprocessing.Size;
        var pixels = Arguments.ImageFiles(imageFolder).Take(64).Select(file =>
        {
            using var image = ImageFile.Decode(file, ImageLimits.Default);
            var buffer = new float[one];
            Preprocessing.Write(image, manifest.Preprocessing.Resize, buffer);
            return buffer;
        }).ToList();
        Console.WriteLine($"{Arguments.Now()}, {Arguments.Load()}; {pixels.Count} images from {imageFolder}");
        var sessions = threadCounts.SelectMany(t => spinnings.Select(spin => (Threads: t, Spinning: spin)))
            .ToDictionary(k => k, k => Open(model, k.Threads, k.Spinning));
        var cells = sessions.Keys.SelectMany(k => callerCounts.SelectMany(c => batchSizes.Select(b =>
            (k.Threads, k.Spinning, Callers: c, Batch: b)))).ToList();
        var results = cells.ToDictionary(c => c, _ => new List<(double PerSecond, double P50, double P99)>());
        // Rounds over every combination in turn, so a change in the shared cores' load falls on all of them alike.
        for (var round = 0; round < rounds; round++)
            foreach (var cell in cells)
                results[cell].Add(Measure(sessions[(cell.Threads, cell.Spinning)], pixels, cell.Callers, cell.Batch,
                    seconds));
        Console.WriteLine($"| intra-op threads | spinning | callers | batch | images/s (median of {rounds}) | " +
            "min-max | run p50 ms | run p99 ms |");
        Console.WriteLine("|---:|---|---:|---:|---:|---|---:|---:|");
        foreach (var (cell, runs) in results)
        {
            var rates = runs.Select(r => r.PerSecond).Order().ToList();
            var median = runs.OrderBy(r => r.PerSecond).ElementAt(runs.Count / 2);
            Console.WriteLine($"| {cell.Threads} | {(cell.Spinning ? "yes" : "no")} | {cell.Callers} | {cell.Batch} " +
                $"| {median.PerSecond:0.0} | {rates[0]:0.0}-{rates[^1]:0.0} | {median.P50:0} | {median.P99:0} |");
        }
        foreach (var session in sessions.Values) session.Dispose();
        Console.WriteLine($"{Arguments.Now()}, {Arguments.Load()}");
        return 0;
    }

    private static InferenceSession Open(byte[] model, int threads, bool spinning)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning ? "1" : "0");
        return new InferenceSession(model, options);
    }

    private static (double PerSecond, double P50, double P99) Measure(InferenceSession session,
        IReadOnlyList<float[]> pixels, int callers, int batch, double seconds)
    {
        const int one = 3 * Preprocessing.Size * Preprocessing.Size;
        var inputs = Enumerable.Range(0, callers).Select(c =>
        {
            var buffer = new float[batch * one];
            for (var i = 0; i < batch; i++) pixels[(c * batch + i) % pixels.Count].CopyTo(buffer, i * one);
            return new DenseTensor<float>(buffer, [batch, 3, Preprocessing.Size, Preprocessing.Size]);
        }).ToList();
        void RunOnce(int caller)
        {
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(ModelFiles.InputName, inputs[caller])]);
        }
        Parallel.For(0, callers, RunOnce);
        var times = new List<double>[callers];
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, callers).Select(c => new Thread(() =>
        {
            times[c] = [];
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                var start = clock.Elapsed.TotalMilliseconds;
                RunOnce(c);
                times[c].Add(clock.Elapsed.TotalMilliseconds - start);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = times.SelectMany(t => t).Order().ToList();
        return (all.Count * batch / elapsed, Arguments.Percentile(all, 50), Arguments.Percentile(all, 99));
    }
}
