using System.Globalization;
using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Trainer.Report;
using Pipeline.Trainer.Training;

namespace Pipeline.Trainer.Cli;

/// <summary><c>trainer train --data &lt;folder&gt; --out &lt;folder&gt; [options]</c>: trains one model version from folders on disk.</summary>
public static class TrainCommand
{
    public const int Refused = 2;

    public const string Help = """
        Usage: trainer train --data <folder> [--test <folder>] --out <folder> [options]

        <folder> holds one folder per label. If it holds train/ and test/ (or val/) folders, they are the split;
        otherwise a seeded, stratified 20 % of each label becomes the test split.

        Options (defaults in brackets):
          --data <folder>            images, one folder per label (required)
          --test <folder>            a separate test folder, one folder per label
          --out <folder>             where model.onnx, model.json and checkpoint.dat go (required)
          --fast                     frozen backbone only, never fine-tuned: the quickest model
          --budget <minutes>         time to a model the run may take; what does not fit is left out and named
          --options <file.json>      training options as JSON (as in train.json); flags below override it
          --seed <n>                 seed for splits, augmentation and initialisation [42]
          --resize crop|squash       keep the aspect ratio and crop the centre, or stretch [crop]
          --validation <fraction>    share of train held out for early stopping and thresholds [0.2]
          --head-epochs <n>          stage 1 (frozen backbone) epochs [60]
          --head-optimizer <name>    lbfgs (softmax regression, cross-validated L2, refitted on all training
                                     images), or a gradient head: adamw, adam, rmsprop (the Keras seed's), sgd [lbfgs]
          --head-l2 <strength>       L2 strength of the lbfgs head [chosen by cross-validation]
          --folds <n>                cross-validation folds of the lbfgs head [5]
          --head-lr <rate>           stage 1 learning rate of a gradient head [0.001]
          --fine-tune auto|always|never
                                     auto: tried only where the frozen head's cross-validated accuracy is below
                                     --fine-tune-below, kept only where it beats it on validation by 1.5 standard errors [auto]
          --fine-tune-below <acc>    [0.97]
          --fine-tune-min-per-label <n>
                                     auto tries fine-tuning only with this many training images a label on average [200]
          --views <n>                augmented views per training image, computed once fine-tuning is tried;
                                     0 fine-tunes on flipped and shifted activation maps of the plain images [0]
          --fine-tune-epochs <n>     stage 2 epochs; 0 turns fine-tuning off [4]
          --fine-tune-stages <n>     backbone stages trained in stage 2, from the top [1]
          --fine-tune-lr <rate>      stage 2 learning rate of the backbone (the head gets 10x) [0.0001]
          --dropout <rate>           dropout before the dense layer of a gradient head [0.4]
          --float                    keep the backbone in float on a CPU [int8, calibrated on training images]
          --weight-decay <rate>      [0.0001]
          --label-smoothing <eps>    label smoothing while fine-tuning [0]
          --batch-size <n>           [32]
          --patience <n>             epochs without a better validation loss before a stage stops [10]
          --flip-tta                 average with the mirror image at test time [only where it helps a fine-tuned model]
          --no-flip-tta              do not average with the mirror image at test time
          --no-balance               do not weight the loss by inverse label frequency
          --rotation <degrees>       [15]      --shift <fraction>   width and height [0.1]
          --shear <degrees>          [5]       --zoom <fraction>    [0.15]
          --no-hflip                 no horizontal flips
          --brightness <fraction>    [0.2]     --contrast <fraction> [0.2]     --saturation <fraction> [0.2]
          --help                     this text

        Prints progress per epoch, the files it could not use with reasons, and as its last line on standard
        output one line of JSON: accuracy, macroF1, logLoss, trainSeconds, imagesPerSecond (train and validation
        images over trainSeconds), modelPath, version, skipped, peakMemoryMB.
        Exit codes: 0 trained; 1 failed; 2 refused (bad arguments, fewer than 2 labels, a label with fewer than 5 usable images).
        """;

    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(Help); return 0; }
        TrainingRequest request;
        try { request = Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine("Run 'trainer train --help' for the options.");
            return Refused;
        }

        try
        {
            var outcome = await TrainingRun.RunAsync(request, new ConsoleProgress(), ct);
            var m = outcome.Manifest;
            foreach (var s in m.Skipped) Console.WriteLine($"skipped {s.Path}: {s.Reason}");
            if (ReportWriter.TryWrite(outcome, null, e => Console.Error.WriteLine($"warning: no report written: {e.Message}")) is { } report) Console.WriteLine($"report {report}");
            Console.WriteLine($"test accuracy {m.Metrics.Accuracy:0.0000}, macro F1 {m.Metrics.MacroF1:0.0000} on {m.Metrics.TestImages} images; model in {outcome.ModelFolder}");
            // Throughput of the whole run over the images it learned from (train and validation).
            var trainImages = m.ImageCounts.Values.Sum(c => c["train"] + c["validation"]);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                accuracy = m.Metrics.Accuracy,
                macroF1 = m.Metrics.MacroF1,
                logLoss = m.Metrics.LogLoss,
                trainSeconds = Math.Round(m.Timings.TotalSeconds, 2),
                imagesPerSecond = Math.Round(trainImages / Math.Max(m.Timings.TotalSeconds, 1e-9), 2),
                modelPath = Path.GetFullPath(Path.Combine(outcome.ModelFolder, "model.onnx")),
                version = m.Version,
                skipped = m.Skipped.Count,
                peakMemoryMB = System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024),
            }));
            return 0;
        }
        catch (DatasetRefusedException e)
        {
            Console.Error.WriteLine($"refused: {e.Message}");
            return Refused;
        }
    }

    public static TrainingRequest Parse(string[] args)
    {
        string? data = null, test = null, output = null;
        var options = new TrainingOptions();
        var augmentation = options.Augmentation;
        var flags = new List<Func<TrainingOptions, TrainingOptions>>();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            int Int() => int.TryParse(Value(), CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : throw new ArgumentException($"{name} takes a whole number of 0 or more.");
            double Number() => double.TryParse(Value(), CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : throw new ArgumentException($"{name} takes a number of 0 or more.");
            void Set(Func<TrainingOptions, TrainingOptions> f) => flags.Add(f);
            void Augment(Func<AugmentationOptions, AugmentationOptions> f) => flags.Add(o => o with { Augmentation = f(o.Augmentation) });
            switch (name)
            {
                case "--data": data = Value(); break;
                case "--test": test = Value(); break;
                case "--out": output = Value(); break;
                case "--fast": options = TrainingOptions.Fast; break;
                case "--options": options = ReadOptions(Value()); break;
                case "--seed": { var v = Int(); Set(o => o with { Seed = v }); break; }
                case "--resize": { var v = Value(); Set(o => o with { Resize = Core.Images.Preprocessing.Validate(v) }); break; }
                case "--validation": { var v = Number(); if (v >= 0.9) throw new ArgumentException("--validation must be below 0.9."); Set(o => o with { ValidationFraction = v }); break; }
                case "--head-epochs": { var v = Int(); Set(o => o with { HeadEpochs = Math.Max(1, v) }); break; }
                case "--head-optimizer": { var v = Value(); Set(o => o with { HeadOptimizer = v }); break; }
                case "--head-lr": { var v = Number(); Set(o => o with { HeadLearningRate = v }); break; }
                case "--views": { var v = Int(); Set(o => o with { AugmentedViews = v }); break; }
                case "--fine-tune-epochs": { var v = Int(); Set(o => o with { FineTuneEpochs = v }); break; }
                case "--fine-tune-stages": { var v = Int(); if (v > 4) throw new ArgumentException("--fine-tune-stages is at most 4."); Set(o => o with { FineTuneStages = v }); break; }
                case "--fine-tune-lr": { var v = Number(); Set(o => o with { FineTuneLearningRate = v }); break; }
                case "--dropout": { var v = Number(); if (v >= 1) throw new ArgumentException("--dropout must be below 1."); Set(o => o with { Dropout = v }); break; }
                case "--weight-decay": { var v = Number(); Set(o => o with { WeightDecay = v }); break; }
                case "--label-smoothing": { var v = Number(); Set(o => o with { LabelSmoothing = v }); break; }
                case "--batch-size": { var v = Int(); Set(o => o with { BatchSize = Math.Max(1, v) }); break; }
                case "--patience": { var v = Int(); Set(o => o with { Patience = Math.Max(1, v) }); break; }
                case "--no-flip-tta": Set(o => o with { FlipTestTimeAugmentation = false }); break;
                case "--float": Set(o => o with { Int8 = false }); break;
                case "--flip-tta": Set(o => o with { FlipTestTimeAugmentation = true }); break;
                case "--budget": { var v = Number(); Set(o => o with { BudgetMinutes = v }); break; }
                case "--head-l2": { var v = Number(); Set(o => o with { HeadL2 = v }); break; }
                case "--folds": { var v = Int(); if (v < 2) throw new ArgumentException("--folds takes 2 or more."); Set(o => o with { CrossValidationFolds = v }); break; }
                case "--fine-tune-min-per-label": { var v = Int(); Set(o => o with { FineTuneMinimumPerLabel = v }); break; }
                case "--fine-tune-below": { var v = Number(); Set(o => o with { FineTuneBelowAccuracy = v }); break; }
                case "--fine-tune":
                {
                    var v = Value();
                    if (v is not ("auto" or "always" or "never")) throw new ArgumentException("--fine-tune takes auto, always or never.");
                    Set(o => o with { FineTune = v });
                    break;
                }
                case "--no-balance": Set(o => o with { BalanceLabels = false }); break;
                case "--rotation": { var v = Number(); Augment(a => a with { RotationDegrees = v }); break; }
                case "--shift": { var v = Number(); Augment(a => a with { WidthShift = v, HeightShift = v }); break; }
                case "--shear": { var v = Number(); Augment(a => a with { ShearDegrees = v }); break; }
                case "--zoom": { var v = Number(); Augment(a => a with { Zoom = v }); break; }
                case "--no-hflip": Augment(a => a with { HorizontalFlip = false }); break;
                case "--brightness": { var v = Number(); Augment(a => a with { Brightness = v }); break; }
                case "--contrast": { var v = Number(); Augment(a => a with { Contrast = v }); break; }
                case "--saturation": { var v = Number(); Augment(a => a with { Saturation = v }); break; }
                default: throw new ArgumentException($"Unknown option '{name}'.");
            }
        }
        if (data is null) throw new ArgumentException("--data <folder> is required.");
        if (output is null) throw new ArgumentException("--out <folder> is required.");
        foreach (var f in flags) options = f(options);
        return new TrainingRequest(data, test, output, options, Dataset: Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(data))));
    }

    private static TrainingOptions ReadOptions(string path)
    {
        try { return JsonSerializer.Deserialize<TrainingOptions>(File.ReadAllText(path), Json.Options) ?? new TrainingOptions(); }
        catch (Exception e) when (e is IOException or JsonException) { throw new ArgumentException($"Cannot read options from '{path}': {e.Message}"); }
    }

    private sealed class ConsoleProgress : IProgress<TrainingProgress>
    {
        private int lastFeatureReport = -1;

        public void Report(TrainingProgress p)
        {
            if (p.Message is not null) { Console.WriteLine($"[{p.Elapsed:mm\\:ss}] {p.Stage}: {p.Message}"); return; }
            var left = p.Remaining is { } r ? $", {r.TotalSeconds:0}s left" : "";
            if (p.Stage is "features" or "views")
            {
                // A line per tenth of the way is enough for the one-off backbone passes.
                var tenth = p.Epoch * 10 / Math.Max(1, p.Epochs);
                if (tenth == lastFeatureReport) return;
                lastFeatureReport = tenth;
                Console.WriteLine($"[{p.Elapsed:mm\\:ss}] {p.Stage} {p.Epoch}/{p.Epochs} images, {p.ImagesPerSecond:0.0} images/s{left}");
                return;
            }
            Console.WriteLine($"[{p.Elapsed:mm\\:ss}] {p.Stage} epoch {p.Epoch}/{p.Epochs}: loss {p.Loss:0.0000}, accuracy {p.Accuracy:0.0000}, " +
                $"validation loss {p.ValidationLoss:0.0000}, validation accuracy {p.ValidationAccuracy:0.0000}, {p.ImagesPerSecond:0} images/s{left}");
        }
    }
}
