using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;

namespace Pipeline.Functions;

/// <summary>
/// A blob landed in uploads: split it into train or test, or record why not. Event Grid source, the only one Flex
/// Consumption runs; bound to a BlobClient so that a large upload is never loaded by the binding.
/// </summary>
public sealed class SplitFunction(UploadSorter sorter)
{
    [Function("Split")]
    public Task RunAsync([BlobTrigger(StorageNames.Uploads + "/{name}", Source = BlobTriggerSource.EventGrid,
        Connection = StorageNames.Connection)] BlobClient upload,
        CancellationToken ct) => sorter.SortAsync(upload, ct);
}
