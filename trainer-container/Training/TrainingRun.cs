using Pipeline.Core.Contract;

namespace Pipeline.Trainer.Training;

/// <summary>Where a training run reads images and writes its model version.</summary>
/// <param name="DataFolder">One folder per label; or train/ and test/ (or val/) folders holding them.</param>
/// <param name="TestFolder">A separate test folder (one folder per label), when the split is given apart.</param>
/// <param name="OutFolder">Receives model.onnx, model.json and the checkpoint.</param>
public sealed record TrainingRequest(string DataFolder, string? TestFolder, string OutFolder, TrainingOptions Options,
    string Dataset = "local", string? Version = null);

/// <summary>One line of progress: printed by the command line, written where the status endpoint reads it by the job.</summary>
public sealed record TrainingProgress(string Stage, int Epoch, int Epochs, double Loss, double Accuracy,
    double? ValidationLoss, double? ValidationAccuracy, double ImagesPerSecond, TimeSpan Elapsed, TimeSpan? Remaining, string? Message = null);

public sealed record TrainingOutcome(ModelManifest Manifest, string ModelFolder);

/// <summary>Refused datasets (fewer than 2 labels, a label with fewer than 5 usable images): the command line exits 2.</summary>
public sealed class DatasetRefusedException(string reason) : Exception(reason);
