using Azure;
using Pipeline.Core.Storage;

namespace Pipeline.Local;

/// <summary>
/// Storage that came back empty (an emulator whose data was lost): the listeners that find it so make the containers
/// and queues again, and report it until they answer.
/// </summary>
public static class LostStorage
{
    public static bool Is(RequestFailedException e) => e.ErrorCode is "ContainerNotFound" or "QueueNotFound";

    /// <summary><paramref name="what"/> (a listener's name in <see cref="StorageHealth"/>) found storage empty.
    /// </summary>
    public static async Task RecreateAsync(PipelineStorage storage, StorageHealth health, string what, Exception e,
        ILogger logger, CancellationToken ct)
    {
        health.Failed(what, e);
        logger.LogWarning("{What} is missing in storage; creating the containers and queues again", what);
        try { await storage.EnsureCreatedAsync(ct); }
        catch (Exception again) when (!ct.IsCancellationRequested) { health.Failed(what, again); }
    }
}
