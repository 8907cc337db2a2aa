namespace Pipeline.Core.Contract;

/// <summary>Every container, queue and connection name the pipeline uses: functions, trainer, local host and Bicep agree on these.</summary>
public static class StorageNames
{
    /// <summary>The app setting (or its <c>__blobServiceUri</c>/<c>__queueServiceUri</c> family) naming the data storage account.</summary>
    public const string Connection = "Storage";

    /// <summary>The drop zone: <c>&lt;dataset&gt;/&lt;label&gt;/&lt;file&gt;</c> or <c>&lt;dataset&gt;/train|test|val/&lt;label&gt;/&lt;file&gt;</c>.</summary>
    public const string Uploads = "uploads";
    public const string Train = "train";
    public const string Test = "test";
    public const string Rejected = "rejected";
    public const string Models = "models";

    public const string TrainingQueue = "training-jobs";
    public const string TrainingPoisonQueue = "training-jobs-poison";

    public static readonly string[] Containers = [Uploads, Train, Test, Rejected, Models];
    public static readonly string[] Queues = [TrainingQueue, TrainingPoisonQueue];
}
