using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>The containers and queues of the data account, by their role.</summary>
public sealed class PipelineStorage(BlobServiceClient blobs, QueueServiceClient queues)
{
    public BlobServiceClient Blobs { get; } = blobs;
    public BlobContainerClient Uploads { get; } = blobs.GetBlobContainerClient(StorageNames.Uploads);
    public BlobContainerClient Train { get; } = blobs.GetBlobContainerClient(StorageNames.Train);
    public BlobContainerClient Test { get; } = blobs.GetBlobContainerClient(StorageNames.Test);
    public BlobContainerClient Rejected { get; } = blobs.GetBlobContainerClient(StorageNames.Rejected);
    public BlobContainerClient Models { get; } = blobs.GetBlobContainerClient(StorageNames.Models);
    public BlobContainerClient Predictions { get; } = blobs.GetBlobContainerClient(StorageNames.Predictions);
    public QueueClient TrainingQueue { get; } = queues.GetQueueClient(StorageNames.TrainingQueue);
    public QueueClient TrainingPoisonQueue { get; } = queues.GetQueueClient(StorageNames.TrainingPoisonQueue);
    public QueueClient SettleQueue { get; } = queues.GetQueueClient(StorageNames.SettleQueue);

    public BlobContainerClient SplitContainer(Split split) => split == Split.Train ? Train : Test;

    /// <summary>Creates what is missing. In Azure, Bicep creates them; locally and in tests this does.</summary>
    public async Task EnsureCreatedAsync(CancellationToken ct)
    {
        foreach (var name in StorageNames.Containers)
            await Blobs.GetBlobContainerClient(name).CreateIfNotExistsAsync(cancellationToken: ct);
        foreach (var queue in new[] { TrainingQueue, TrainingPoisonQueue,
            SettleQueue }) await queue.CreateIfNotExistsAsync(cancellationToken: ct);
    }
}
