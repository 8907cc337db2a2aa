using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Scoring;
using Pipeline.Core.Storage;
using Pipeline.Trainer.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Trainer.Job;

public sealed record PromotionDecision(bool Promoted, string Reason);

/// <summary>
/// A new version replaces the promoted one only if it scores at least as well on the test split it was trained
/// against; the promoted model is scored on those same test images, so the comparison is like for like.
/// </summary>
public static class Promotion
{
    /// <summary>Test images decoded and scored at a time: memory holds one batch of them, whatever the split's size
    /// (it held the whole split decoded at full size: 4,000 photos of 500 x 375 are 2.2 GB of pixels).</summary>
    private const int Batch = 16;

    /// <param name="modelFolder">The new version's files.</param>
    /// <param name="source">The dataset the version was trained on: its test split scores both models.</param>
    public static async Task<PromotionDecision> DecideAndPromoteAsync(ModelStore versions, TrainingJob job,
        ModelManifest manifest, string modelFolder, ImageSource source, CancellationToken ct)
    {
        var model = await File.ReadAllBytesAsync(Path.Combine(modelFolder, ModelFiles.Model), ct);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var (latest, etag) = await versions.ReadLatestAsync(job.Dataset, ct);
            string reason;
            double accuracy;
            if (latest is not null)
            {
                var (oldModel, oldManifest) = await versions.DownloadAsync(job.Dataset, latest.Version, ct);
                // A dataset made multilabel (or back) asks a different question: the new kind replaces the old.
                var comparable = oldManifest.Classification == manifest.Classification;
                var scores = await TestAccuraciesAsync(source,
                    [(manifest, model), comparable ? (oldManifest, oldModel) : null], ct);
                accuracy = scores[0] ?? manifest.Metrics.Accuracy;
                var previous = comparable ? scores[1] : null;
                if (previous is { } old && accuracy < old)
                    return new(false, $"Test accuracy {accuracy:0.###} is below the {old:0.###} of the promoted "
                        + $"version {latest.Version}; {latest.Version} stays promoted.");
                reason = $"Test accuracy {accuracy:0.###} against {previous?.ToString("0.###") ?? "n/a"} "
                    + $"of {latest.Version}: promoted.";
            }
            else
            {
                accuracy = (await TestAccuraciesAsync(source, [(manifest, model)], ct))[0]
                    ?? manifest.Metrics.Accuracy;
                reason = $"Test accuracy {accuracy:0.###}; the first version: promoted.";
            }
            if (await versions.PromoteAsync(
                    new LatestModel(job.Dataset, job.JobId, job.JobId, DateTimeOffset.UtcNow, accuracy,
                        manifest.Metrics),
                    etag, ct))
                return new(true, reason);
        }
        return new(false, "latest.json kept changing while this version was being promoted; it was not promoted.");
    }

    /// <summary>Each test file with its labels: the label folders its file name (its content hash) is under.
    /// </summary>
    private static List<(string File, string[] Labels)> TestFiles(ImageSource source) =>
        (source.List([]).Test ?? []).GroupBy(f => Path.GetFileName(f.Name))
            .Select(same => (same.First().Name, same.Select(f => f.Label).ToArray())).ToList();

    /// <summary>
    /// Each model's share of the test split's images whose most probable label is right (multilabel: whose labels at
    /// their thresholds are exactly right, a Negative image's none); null for a model not given, or when there are no
    /// images. Multiclass images under two labels are conflicts the trainer left out, and are left out here too. A file
    /// that no longer decodes counts for neither model (the split checked it). The models share each batch.
    /// </summary>
    public static async Task<double?[]> TestAccuraciesAsync(ImageSource source,
        IReadOnlyList<(ModelManifest Manifest, byte[] Model)?> models, CancellationToken ct)
    {
        var test = TestFiles(source);
        var multilabel = Classification.IsMultilabel(models[0]!.Value.Manifest.Classification);
        if (!multilabel) test = test.Where(t => t.Labels.Length == 1).ToList();
        var scorers = models.Select(m => m is { } x ? new Scorer(x.Model, x.Manifest) : null).ToList();
        try
        {
            var right = new int[models.Count];
            var scored = 0;
            var batches = test.Chunk(Batch).ToList();
            Task<FileContent[]> Read(int b) =>
                source.ReadAsync(batches[b].Select(t => t.File).ToList(), ImageLimits.Default, ct);
            var reading = batches.Count > 0 ? Read(0) : null;
            for (var b = 0; b < batches.Count; b++)
            {
                var contents = await reading!;
                // The next batch downloads while this one is scored.
                reading = b + 1 < batches.Count ? Read(b + 1) : null;
                var images = Decode(batches[b], contents);
                try
                {
                    scored += images.Count;
                    for (var m = 0; m < models.Count; m++)
                        if (scorers[m] is { } scorer) right[m] += Right(scorer, models[m]!.Value.Manifest, images);
                }
                finally { images.ForEach(i => i.Image.Dispose()); }
            }
            return right.Select((r, m) => scored == 0 || scorers[m] is null ? null : (double?)r / scored).ToArray();
        }
        finally { scorers.ForEach(s => s?.Dispose()); }
    }

    private static List<(Image<Rgb24> Image, string[] Labels)> Decode((string File, string[] Labels)[] batch,
        FileContent[] contents)
    {
        var images = new List<(Image<Rgb24>, string[])>();
        for (var i = 0; i < batch.Length; i++)
        {
            if (contents[i].Bytes is not { } content) continue;
            try { images.Add((ImageFile.Decode(content, ImageLimits.Default), batch[i].Labels)); }
            catch (ImageRejectedException) { }
        }
        return images;
    }

    private static int Right(Scorer scorer, ModelManifest manifest, List<(Image<Rgb24> Image, string[] Labels)> batch)
    {
        var multilabel = Classification.IsMultilabel(manifest.Classification);
        var predictions = scorer.Score(batch.Select(t => t.Image).ToList(), multilabel ? null : 1);
        return batch.Zip(predictions).Count(p => multilabel
            ? p.Second.Where(x => x.Probability >= manifest.Thresholds.GetValueOrDefault(x.Label, 0.5))
                .Select(x => x.Label).ToHashSet()
                .SetEquals(p.First.Labels.Where(l => l != Classification.Negative))
            : p.Second[0].Label == p.First.Labels[0]);
    }
}
