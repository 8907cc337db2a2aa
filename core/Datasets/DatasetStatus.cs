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

    /// <summary>How many uploads were rejected; <see cref="Rejected"/> shows the first
    /// <see cref="DatasetStatusReader.RejectedShown"/> (or, with <c>?rejected=all</c>, one page of whole
    /// records).</summary>
    public int RejectedCount { get; init; }

    /// <summary>With <c>?rejected=all</c>: the <c>continuation</c> that reads the next page of rejections; null after
    /// the last.</summary>
    public string? RejectedContinuation { get; init; }
}

public sealed record SplitCounts(int Train, int Test);

/// <summary>What GET /api/datasets answers.</summary>
/// <param name="Problems">What the host's listeners found wrong with storage (failing listings, unreadable
/// uploads).</param>
/// <param name="RejectedWithoutDataset">Uploads whose dataset name is invalid, with the reason.</param>
public sealed record DatasetList(IReadOnlyList<DatasetSummary> Datasets, IReadOnlyList<string> Problems,
    IReadOnlyList<RejectedUpload> RejectedWithoutDataset);

/// <summary>One line of GET /api/datasets.</summary>
public sealed record DatasetSummary(string Dataset, int Images, int Labels, int Rejected, string? Training,
    string? ModelVersion, double? TestAccuracy);

/// <summary>
/// Reads a dataset's status with one listing of its images and one of its rejections, and the list of datasets from
/// each one's kept counts (<see cref="DatasetActivity"/>): the cost of neither grows with the images.
/// </summary>
public sealed class DatasetStatusReader(DatasetImageStore images, RejectionStore rejections, TrainingJobStore jobs,
    ModelStore models, DatasetActivityStore activities)
{
    /// <summary>Rejections a status shows by default (<see cref="DatasetStatus.RejectedCount"/> counts them
    /// all).</summary>
    public const int RejectedShown = 100;

    /// <summary>Datasets of GET /api/datasets read at once (each with its reads sent together).</summary>
    private const int ParallelDatasets = 32;

    public Task<DatasetStatus?> ReadAsync(string dataset, CancellationToken ct) => ReadAsync(dataset, null, ct);

    /// <param name="rejectedPage">Non-null: the whole records of this page of rejections ("" for the first),
    /// downloaded, in place of the first <see cref="RejectedShown"/> from the listing.</param>
    public async Task<DatasetStatus?> ReadAsync(string dataset, string? rejectedPage, CancellationToken ct)
    {
        var current = await images.ListAsync(dataset, ct);
        var (rejected, rejectedCount) = await rejections.ListAsync(dataset, RejectedShown, ct);
        if (current.Count == 0 && rejectedCount == 0 && !await images.ExistsAsync(dataset, ct)) return null;
        string? continuation = null;
        if (rejectedPage is not null)
            (rejected, continuation) = await rejections.ReadPageAsync(dataset, NullIfEmpty(rejectedPage), ct);
        var labels = current.GroupBy(i => i.Label).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key,
            g => new SplitCounts(g.Count(i => i.Split == Split.Train), g.Count(i => i.Split == Split.Test)));
        // The job before latest.json: the trainer promotes before it records success, so a job read as succeeded
        // always comes with the version it promoted (read the other way round, a status could show neither).
        var job = await jobs.ReadAsync(dataset, ct);
        var (latest, _) = await models.ReadLatestAsync(dataset, ct);
        var settings = await images.ReadSettingsAsync(dataset, ct);
        var conflicts = LabelConflicts.Find(current, settings.Multilabel);
        return new DatasetStatus(dataset, labels, current.Count(i => i.Split == Split.Train),
            current.Count(i => i.Split == Split.Test), rejected,
            job, latest, CannotTrain: Trainability.Check(dataset, current), Classification: settings.Kind,
            Conflicts: conflicts.Count > 0 ? conflicts : null)
        { RejectedCount = rejectedCount, RejectedContinuation = continuation };
    }

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;

    public async Task<IReadOnlyList<DatasetSummary>> ListAsync(CancellationToken ct)
    {
        var (names, withRejections) = await images.ListDatasetFoldersAsync(ct);
        var summaries = new DatasetSummary[names.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelDatasets, CancellationToken = ct },
            async (i, token) => summaries[i] = await SummarizeAsync(names[i], withRejections.Contains(names[i]),
                token));
        return summaries;
    }

    private async Task<DatasetSummary> SummarizeAsync(string dataset, bool hasRejections, CancellationToken ct)
    {
        var activityRead = activities.ReadAsync(dataset, ct);
        var rejectedCount = hasRejections ? rejections.CountAsync(dataset, ct) : Task.FromResult(0);
        // The job before latest.json, as in ReadAsync; the counts meanwhile.
        var job = await jobs.ReadAsync(dataset, ct);
        var (latest, _) = await models.ReadLatestAsync(dataset, ct);
        var (activity, _) = await activityRead;
        // A dataset split before its counts were kept is counted from one listing.
        var perLabel = activity?.Labels ?? (await images.ListAsync(dataset, ct)).GroupBy(i => i.Label)
            .ToDictionary(g => g.Key, g => g.Count());
        return new DatasetSummary(dataset, perLabel.Values.Sum(), perLabel.Count(l => l.Value > 0),
            await rejectedCount, job?.Status, latest?.Version, latest?.TestAccuracy);
    }
}
