using Microsoft.Azure.Functions.Worker;
using Pipeline.Core.Contract;
using Pipeline.Core.Training;

namespace Pipeline.Functions;

/// <summary>A settle check came due (queued with the quiet period as its delay): train the dataset if no image came
/// since.</summary>
public sealed class SettleFunction(TrainingDispatch dispatch)
{
    [Function("Settle")]
    public Task RunAsync(
        [QueueTrigger(StorageNames.SettleQueue, Connection = StorageNames.Connection)] string message,
        CancellationToken ct) =>
        dispatch.SettleAsync(message, ct);
}
