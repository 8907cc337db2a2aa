using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Datasets;

/// <summary>
/// What GET /api/datasets/{dataset} answers; <see cref="Report"/> links the promoted version's report.
/// </summary>
/// <param name="CannotTrain">Why the dataset cannot be trained as it is (too few labels or images), or null.</param>
/// <param name="Classification">"multiclass" or "multilabel", as dataset.json says.</param>
/// <param name="Conflicts">Images under several labels that training leaves out (multiclass; Negative beside a
/// label in both kinds); null when there are none.</param>
public sealed record DatasetStatus(string Dataset, IReadOnlyDictionary<string, SplitCounts> Labels, int TrainImages,
    int TestImages, IReadOnlyList<RejectedUpload> Rejected, TrainingJob? Training, LatestModel? Model,
    string? Report = null, string? CannotTrain = null, string Classification = Contract.Classification.Multiclass,
    IReadOnlyList<LabelConflict>? Conflicts = null)
{
    /// <summary>The dataset's Custom Vision project id (its Prediction API's <c>projectId</c>).</summary>
    public Guid? ProjectId { get; init; }
}

public sealed record SplitCounts(int Train, int Test);

/// <summary>What GET /api/datasets answers.</summary>
/// <param name="Problems">What the host's listeners found wrong with storage (failing listings, unreadable
/// uploads).</param>
/// <param name="RejectedWithoutDataset">Uploads whose dataset name is invalid, with the reason.</param>
public sealed record DatasetList(IReadOnlyList<DatasetSummary> Datasets, IReadOnlyList<string> Problems,
    IReadOnlyList<RejectedUpload> RejectedWithoutDataset);

/// <summary>One line of GET /api/datasets.</summary>
public sealed record DatasetSummary(string Dataset, int Images, int Labels, int Rejected, string? Training, string? ModelVersion, double? TestAccuracy);

public sealed class DatasetStatusReader(DatasetImageStore images, RejectionStore rejections, TrainingJobStore jobs,
    ModelStore models)
{
    public async Task<DatasetStatus?> ReadAsync(string dataset, CancellationToken ct)
    {
        if (!await images.ExistsAsync(dataset, ct) && (await rejections.ListAsync(dataset, ct)).Count == 0) return null;
        var current = await images.ListAsync(dataset, ct);
        var labels = current.GroupBy(i => i.Label).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key,
            g => new SplitCounts(g.Count(i => i.Split == Split.Train), g.Count(i => i.Split == Split.Test)));
        // The job before latest.json: the trainer promotes before it records success, so a job read as succeeded
        // always comes with the version it promoted (read the other way round, a status could show neither).
        var job = await jobs.ReadAsync(dataset, ct);
        var (latest, _) = await models.ReadLatestAsync(dataset, ct);
        var settings = await images.ReadSettingsAsync(dataset, ct);
        var conflicts = LabelConflicts.Find(current, settings.Multilabel);
        return new DatasetStatus(dataset, labels, current.Count(i => i.Split == Split.Train),
            current.Count(i => i.Split == Split.Test), await rejections.ListAsync(dataset, ct),
            job, latest, CannotTrain: Trainability.Check(dataset, current), Classification: settings.Kind,
            Conflicts: conflicts.Count > 0 ? conflicts : null);
    }

    public async Task<IReadOnlyList<DatasetSummary>> ListAsync(CancellationToken ct)
    {
        var summaries = new List<DatasetSummary>();
        foreach (var dataset in await images.ListDatasetsAsync(ct))
        {
            var current = await images.ListAsync(dataset, ct);
            var job = await jobs.ReadAsync(dataset, ct);
            var (latest, _) = await models.ReadLatestAsync(dataset, ct);
            summaries.Add(new DatasetSummary(dataset, current.Count, current.Select(i => i.Label).Distinct().Count(),
                (await rejections.ListAsync(dataset, ct)).Count, job?.Status, latest?.Version, latest?.TestAccuracy));
        }
        return summaries;
    }
}
