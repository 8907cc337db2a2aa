using TorchSharp;
using System.Diagnostics;
using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Scoring;
using Pipeline.Trainer.Model;
using Pipeline.Trainer.Onnx;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>Where a training run reads images and writes its model version.</summary>
/// <param name="DataFolder">One folder per label; or train/ and test/ (or val/) folders holding them. Read where no
/// <see cref="Source"/> is given.</param>
/// <param name="TestFolder">A separate test folder (one folder per label), when the split is given apart.</param>
/// <param name="OutFolder">Receives model.onnx, model.json and the checkpoint.</param>
/// <param name="MemoryCapMB">Memory the run's caches may hold; beyond it they go to temporary files. The model is the
/// same either way.</param>
/// <param name="CacheFolder">Where those files go (in a folder of their own, deleted after the run); the system's
/// temporary folder by default.</param>
public sealed record TrainingRequest(string DataFolder, string? TestFolder, string OutFolder, TrainingOptions Options,
    string Dataset = "local", string? Version = null, int MemoryCapMB = CacheSpace.DefaultMemoryCapMB,
    string? CacheFolder = null)
{
    /// <summary>Where the images are read instead of the folders: a job's blobs.</summary>
    public ImageSource? Source { get; init; }
}

/// <summary>One line of progress: printed by the command line, written where the status endpoint reads it by the
/// job.</summary>
public sealed record TrainingProgress(string Stage, int Epoch, int Epochs, double Loss, double Accuracy,
    double? ValidationLoss, double? ValidationAccuracy, double ImagesPerSecond, TimeSpan Elapsed, TimeSpan? Remaining,
    string? Message = null);

/// <summary>A trained model version, and what the report needs that model.json does not hold: each test image's
/// probabilities.</summary>
public sealed record TrainingOutcome(ModelManifest Manifest, string ModelFolder)
{
    public IReadOnlyList<TestPrediction> TestPredictions { get; init; } = [];
}

/// <summary>One test image: its file, true label index, probabilities per label (in manifest order) and its 224 x 224
/// BGR pixels where the report shows it (one of the <see cref="Shown"/> most confidently wrong), else null: held for
/// every test image they took 1.5 GB for 10,000.</summary>
public sealed record TestPrediction(string Path, int Label, float[] Probabilities, byte[]? Pixels)
{
    /// <summary>Wrong predictions the report shows.</summary>
    public const int Shown = 24;

    /// <summary>Wrong predictions, the most probable wrong answer first (fastai's top losses, by confidence).</summary>
    public static IReadOnlyList<(TestPrediction Prediction, int Predicted)> MostConfidentlyWrong(
        IReadOnlyList<TestPrediction> predictions, int count) =>
        predictions
            .Select(p => (Prediction: p, Predicted: Evaluation.ArgMax(p.Probabilities)))
            .Where(p => p.Predicted != p.Prediction.Label)
            .OrderByDescending(p => p.Prediction.Probabilities[p.Predicted])
            .Take(count)
            .ToList();

    /// <summary>Every label the image has: multilabel images have zero or more.</summary>
    public IReadOnlyList<int> Targets { get; init; } = [Label];
}

/// <summary>Refused datasets (fewer than 2 labels, a label with fewer than 5 usable images): the command line exits
/// 2.</summary>
public sealed class DatasetRefusedException(string reason) : Exception(reason);

/// <summary>A whole training run: read and split the images, train both stages, export, evaluate on the test split,
/// write the version.</summary>
public static partial class TrainingRun
{
    public const string CheckpointFile = ModelFiles.Checkpoint;

    public static Task<TrainingOutcome> RunAsync(
        TrainingRequest request, IProgress<TrainingProgress>? progress, CancellationToken ct) =>
        Task.Factory.StartNew(() => Run(request, progress, ct), ct, TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    public static TrainingOutcome Run(
        TrainingRequest request, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var options = request.Options;
        var clock = Stopwatch.StartNew();
        progress?.Report(new TrainingProgress("start", 0, 0, 0, 0, null, null, 0, clock.Elapsed, null,
            $"reading the images of {(request.Version is null ? request.DataFolder : request.Dataset)}"));
        // A job (it names its version) trains from a temporary copy the user never saw: refusals name the dataset
        // instead. Libtorch loads with the backbone, beside the decoding (a third of a second before it, here).
        var preparing = PreparedBackbone.Start(options.Int8, ct);
        // Its files are deleted however the run ends.
        using var caches = new CacheSpace(request.MemoryCapMB, request.CacheFolder);
        ImageSet data;
        try
        {
            data = ImageSet.Load(request.Source ?? new FolderImageSource(request.DataFolder, request.TestFolder),
                options, ct: ct, dataset: request.Version is null ? null : request.Dataset, caches: caches);
        }
        catch
        {
            PreparedBackbone.Abandon(preparing);
            throw;
        }
        ProcessMemory.Release();
        var loadSeconds = clock.Elapsed.TotalSeconds;
        using var prepared = preparing.GetAwaiter().GetResult();
        progress?.Report(new TrainingProgress("load", 0, 0, 0, 0, null, null, 0, clock.Elapsed, null,
            $"{data.Labels.Count} labels; {data.Train.Count} train, {data.Validation.Count} validation, " +
            $"{data.TestFiles} test images; {data.Skipped.Count} skipped; training on {TrainingDevice.Describe()}"));

        // Seeded after the backbone is read (its modules draw initial weights before the file's replace them), so the
        // head starts from the same draw whichever finished first.
        manual_seed(options.Seed);
        var history = new List<EpochRecord>();
        using var model = new Classifier(prepared.Backbone, data.Labels.Count, options.Dropout, data.Multilabel);
        model.to(TrainingDevice.Current);
        model.eval();
        ProcessMemory.Collect();
        var budget = new TrainingBudget(options.BudgetMinutes, clock);
        var fit = Fit(model, prepared.Calibrator, data, options, progress, history, clock, budget, ct);
        progress?.Report(Note("caches", clock, Describe(caches.Use())));

        Directory.CreateDirectory(request.OutFolder);
        var modelBytes = OnnxExport.ToBytes(model, fit.Recipe.FlipAverage, fit.Int8, fit.Int8Stages);
        File.WriteAllBytes(Path.Combine(request.OutFolder, ModelFiles.Model), modelBytes);
        // The model is whole once model.onnx is: the checkpoint (TorchSharp's weights, to train on elsewhere) is
        // written while it is evaluated.
        var checkpoint = Task.Run(() => model.to(CPU).save(Path.Combine(request.OutFolder, CheckpointFile)));
        try
        {
            return Evaluate(request, data, fit, history, budget, modelBytes, checkpoint, clock, loadSeconds);
        }
        catch
        {
            // The model is disposed on the way out: the checkpoint is waited for first; the evaluation's error is the
            // one reported.
            try { checkpoint.Wait(); }
            catch (AggregateException) { }
            throw;
        }
    }

    private static TrainingOutcome Evaluate(TrainingRequest request, ImageSet data, FitResult fit,
        List<EpochRecord> history, TrainingBudget budget, byte[] modelBytes, Task checkpoint, Stopwatch clock,
        double loadSeconds)
    {
        var options = request.Options;
        var times = fit.Times;
        // Evaluate with the exported model and the scorer the HTTP endpoint uses: what is reported is what is served.
        var evaluateStart = clock.Elapsed;
        var spec = Preprocessing.Spec(options.Resize);
        var draft = new ModelManifest
        {
            Version = request.Version ?? DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss"),
            Dataset = request.Dataset,
            Labels = data.Labels,
            Classification = data.Classification,
            NegativeLabel = data.NegativeLabel,
            Preprocessing = spec,
            Options = options,
            ImageCounts = new Dictionary<string, IReadOnlyDictionary<string, int>>(),
            Metrics = new Metrics(),
            Thresholds = new Dictionary<string, double>(),
            Timings = new Timings(0, 0, 0, 0, 0, 0, 0, 0),
            Device = TrainingDevice.Describe(),
            PackageVersions = PackageVersions(),
            Skipped = data.Skipped,
            History = history,
            Recipe = fit.Recipe with { LeftOut = budget.LeftOut },
        };
        using var scorer = new Scorer(modelBytes, draft);
        var testProbabilities = Probabilities(scorer, data.Test);
        var thresholds = fit.OutOfFold is { } outOfFold
            ? Evaluation.Thresholds(outOfFold, fit.OutOfFoldTargets!, data.Labels)
            : data.Validation.Count == 0
                ? data.Labels.ToDictionary(l => l, _ => 0.5)
                : Evaluation.Thresholds(Probabilities(scorer, data.Validation), Targets(data.Validation), data.Labels);
        // A multilabel model is judged at its thresholds, label by label; a multiclass one by its most probable label.
        var metrics = data.Multilabel
            ? Evaluation.MeasureMultilabel(testProbabilities, Targets(data.Test), data.Labels, thresholds)
            : Evaluation.Measure(testProbabilities, data.Test.Select(t => t.Label).ToList(), data.Labels);
        var evaluateSeconds = (clock.Elapsed - evaluateStart).TotalSeconds;
        checkpoint.GetAwaiter().GetResult(); // counted in the total, as before, if it outlasts the evaluation

        var manifest = draft with
        {
            ImageCounts = data.Counts(),
            Caches = data.Caches?.Use(), // with a given test split's images, decoded for evaluation
            Metrics = metrics,
            Thresholds = thresholds,
            // Evaluation (which decodes a given test split) is counted apart: total minus it is the time to a model.
            Timings = new Timings(loadSeconds, times.FeatureSeconds, times.HeadSeconds, times.FineTuneSeconds,
                evaluateSeconds, clock.Elapsed.TotalSeconds, times.FeatureImagesPerSecond,
                times.FineTuneImagesPerSecond),
        };
        // A multilabel image has no one label it was mistaken for; its outcomes per label are in the metrics.
        if (!data.Multilabel) WriteMistakes(request, manifest, data, testProbabilities);
        File.WriteAllText(Path.Combine(request.OutFolder, ModelFiles.Manifest),
            JsonSerializer.Serialize(manifest, Json.Options));
        return new TrainingOutcome(manifest, request.OutFolder)
        {
            TestPredictions = WithShownPixels(data.Test, testProbabilities, data.Multilabel),
        };
    }

    /// <summary>The test predictions, with pixels only for those the report shows (read now: the caches' files go
    /// with the run).</summary>
    private static List<TestPrediction> WithShownPixels(IReadOnlyList<LabelledImage> test,
        IReadOnlyList<float[]> probabilities, bool multilabel)
    {
        var predictions = test.Select((t, i) => new TestPrediction(t.Path, t.Label, probabilities[i], null)
        {
            Targets = t.Targets,
        }).ToList();
        if (multilabel) return predictions; // the report shows no wrong images for them
        foreach (var (shown, _) in TestPrediction.MostConfidentlyWrong(predictions, TestPrediction.Shown))
        {
            var i = predictions.FindIndex(p => ReferenceEquals(p, shown));
            predictions[i] = shown with { Pixels = test[i].Pixels };
        }
        return predictions;
    }

    /// <summary>mistakes.json: each label's most confident mistakes on the test split, named so the studio can
    /// find them (a job's blobs) or a user can (paths under the data folder).</summary>
    private static void WriteMistakes(TrainingRequest request, ModelManifest manifest, ImageSet data,
        IReadOnlyList<float[]> probabilities)
    {
        var mistakes = new TestMistakes
        {
            Dataset = manifest.Dataset,
            Version = manifest.Version,
            Images = data.Source.MistakeImages,
            Labels = Evaluation.Mistakes(probabilities, data.Test.Select(t => t.Label).ToList(), manifest.Labels,
                data.Test.Select(t => data.Source.MistakeName(t.Path)).ToList()),
        };
        File.WriteAllText(Path.Combine(request.OutFolder, ModelFiles.Mistakes),
            JsonSerializer.Serialize(mistakes, Json.Options));
    }

    private static string Describe(CacheUse use) =>
        $"{use.MemoryMB:0} MB in memory, {use.DiskMB:0} MB on disk (temporary files, deleted after the run), " +
        $"memory cap {use.MemoryCapMB} MB";

    private static List<IReadOnlyCollection<int>> Targets(IEnumerable<LabelledImage> images) =>
        images.Select(t => (IReadOnlyCollection<int>)t.Targets.ToArray()).ToList();

    /// <summary>Probabilities of images already preprocessed by <see cref="ImageSet"/>, in batches.</summary>
    public static List<float[]> Probabilities(Scorer scorer, IReadOnlyList<LabelledImage> images, int batch = 16)
    {
        var rows = new List<float[]>();
        var scratch = images.Count > 0 ? new byte[images[0].PixelCount] : [];
        for (var start = 0; start < images.Count; start += batch)
        {
            var part = images.Skip(start).Take(batch).ToList();
            var pixels = new float[part.Count * scratch.Length];
            FeatureCache.Floats(part, pixels, scratch);
            rows.AddRange(scorer.Probabilities(pixels, part.Count));
        }
        return rows;
    }

    private static Dictionary<string, string> PackageVersions() => new()
    {
        ["TorchSharp"] = PackageVersion(typeof(TorchSharp.torch)),
        ["libtorch"] = __version__,
        ["Microsoft.ML.OnnxRuntime"] = PackageVersion(typeof(Microsoft.ML.OnnxRuntime.InferenceSession)),
        ["SixLabors.ImageSharp"] = PackageVersion(typeof(SixLabors.ImageSharp.Image)),
        [".NET"] = Environment.Version.ToString(),
    };

    // The informational version is the package's (ImageSharp 2.1.13's assembly version is 2.0.0.0); drop any "+commit".
    private static string PackageVersion(Type type) =>
        (type.Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .FirstOrDefault()
            as System.Reflection.AssemblyInformationalVersionAttribute)?.InformationalVersion.Split('+')[0]
        ?? type.Assembly.GetName().Version?.ToString(3) ?? "?";
}
