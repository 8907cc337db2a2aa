using Azure.Storage.Blobs;
using Microsoft.Azure.WebJobs;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Training;

namespace Pipeline.Local;

/// <summary>
/// The function app's storage triggers under the WebJobs SDK's polling listeners, which work against Azurite
/// (Event Grid does not exist there). Same core calls as functions/.
/// </summary>
public sealed class LocalTriggers(UploadSorter sorter, TrainingDispatch dispatch, UploadSweep sweep)
{
    [FunctionName("Split")]
    public async Task SplitAsync([BlobTrigger(StorageNames.Uploads + "/{name}", Connection = StorageNames.Connection)] BlobClient upload, CancellationToken ct)
    {
        var properties = await upload.GetPropertiesAsync(cancellationToken: ct);
        await sorter.SortAsync(upload, ct);
        sweep.Handled(upload.Name, properties.Value.ETag);
    }

    [FunctionName("Settle")]
    public Task SettleAsync([QueueTrigger(StorageNames.SettleQueue, Connection = StorageNames.Connection)] string message, CancellationToken ct) =>
        dispatch.SettleAsync(message, ct);
}
