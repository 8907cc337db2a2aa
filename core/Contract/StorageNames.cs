namespace Pipeline.Core.Contract;

/// <summary>Every container, queue and connection name the pipeline uses: functions, trainer, local host and Bicep
/// agree on these.</summary>
public static class StorageNames
{
    /// <summary>The app setting (or its <c>__blobServiceUri</c>/<c>__queueServiceUri</c> family) naming the data
    /// storage account.</summary>
    public const string Connection = "Storage";

    /// <summary>The drop zone: <c>&lt;dataset&gt;/&lt;label&gt;/&lt;file&gt;</c> or
    /// <c>&lt;dataset&gt;/train|test|val/&lt;label&gt;/&lt;file&gt;</c>.</summary>
    public const string Uploads = "uploads";
    /// <summary>Accepted images, <c>&lt;dataset&gt;/&lt;label&gt;/&lt;content hash&gt;.&lt;ext&gt;</c>, in the split
    /// they belong to.</summary>
    public const string Train = "train";
    public const string Test = "test";
    /// <summary>One JSON record per refused upload: <c>&lt;dataset&gt;/&lt;hash of the upload path&gt;.json</c> with
    /// the reason.</summary>
    public const string Rejected = "rejected";
    /// <summary>
    /// <c>&lt;dataset&gt;/&lt;version&gt;/</c> files, <c>&lt;dataset&gt;/latest.json</c>,
    /// <c>&lt;dataset&gt;/training.json</c> and <c>&lt;dataset&gt;/published.json</c>.
    /// </summary>
    public const string Models = "models";
    /// <summary>
    /// Scored images kept for review: <c>&lt;dataset&gt;/&lt;id&gt;.json</c> (<see cref="KeptPrediction"/>) and the
    /// image beside it; deleted after <c>Pipeline__KeepPredictionsDays</c>.
    /// </summary>
    public const string Predictions = "predictions";

    public const string TrainingQueue = "training-jobs";
    public const string TrainingPoisonQueue = "training-jobs-poison";
    /// <summary>Delayed "has this dataset settled?" checks, at most one pending per dataset
    /// (<see cref="DatasetActivity.CheckDueAt"/>), visible after the quiet period.</summary>
    public const string SettleQueue = "dataset-settled";

    /// <summary>Control blob in uploads: <c>&lt;dataset&gt;/train.json</c> holds training options and asks for a
    /// run.</summary>
    public const string TrainControlFile = "train.json";
    /// <summary>Control blob in uploads: <c>&lt;dataset&gt;/dataset.json</c> holds the dataset's settings (test
    /// fraction, classification).</summary>
    public const string DatasetSettingsFile = "dataset.json";
    /// <summary>In uploads: <c>&lt;dataset&gt;/labels.csv</c> gives the labels of the images beside it
    /// (<see cref="LabelsCsv"/>).</summary>
    public const string LabelsFile = "labels.csv";
    /// <summary>In models: <c>&lt;dataset&gt;/latest.json</c> names the promoted version.</summary>
    public const string LatestFile = "latest.json";
    /// <summary>In models: <c>&lt;dataset&gt;/training.json</c> is the dataset's current or last training
    /// job.</summary>
    public const string TrainingStateFile = "training.json";
    /// <summary>In models: <c>&lt;dataset&gt;/published.json</c> holds the names published versions go by.</summary>
    public const string PublishedFile = "published.json";
    /// <summary>In models: <c>&lt;dataset&gt;/activity.json</c> is the dataset's <see cref="DatasetActivity"/>.
    /// </summary>
    public const string ActivityFile = "activity.json";
    /// <summary>In models: <c>&lt;dataset&gt;/project.json</c> is the dataset's Custom Vision project id.</summary>
    public const string ProjectFile = "project.json";

    public static readonly string[] Containers = [Uploads, Train, Test, Rejected, Models, Predictions];
    public static readonly string[] Queues = [TrainingQueue, TrainingPoisonQueue, SettleQueue];
}
