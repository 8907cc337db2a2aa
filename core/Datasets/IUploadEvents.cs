using Pipeline.Core.Contract;

namespace Pipeline.Core.Datasets;

/// <summary>
/// What sorting an upload tells the layer above it (training), so that this layer never calls up: a new image
/// joined a dataset, or a train.json asked for a run.
/// </summary>
public interface IUploadEvents
{
    /// <summary>An image of the dataset was split; <paramref name="newLabels"/>: the labels it was newly written
    /// under (none for an image the dataset had already).</summary>
    Task ImageAddedAsync(string dataset, IReadOnlyCollection<string> newLabels, CancellationToken ct);

    /// <summary>Returns what became of the request, in words for the log.</summary>
    Task<string> TrainingAskedAsync(string dataset, TrainingOptions options, CancellationToken ct);
}
