using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Scoring;
using Pipeline.Core.Storage;
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

    public static async Task<PromotionDecision> DecideAndPromoteAsync(ModelStore versions, TrainingJob job,
        ModelManifest manifest, string testFolder, CancellationToken ct)
    {
        var model = await File.ReadAllBytesAsync(ModelPath(testFolder), ct);
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
                var scores = TestAccuracies(testFolder,
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
                accuracy = TestAccuracies(testFolder, [(manifest, model)], ct)[0] ?? manifest.Metrics.Accuracy;
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

    private static string ModelPath(string testFolder) =>
        Path.Combine(Path.GetDirectoryName(testFolder)!, "out", ModelFiles.Model);

    /// <summary>Each test file with its labels: the folders its file name (its content hash) is under.</summary>
    private static List<(string File, string[] Labels)> TestFiles(string testFolder)
    {
        if (!Directory.Exists(testFolder)) return [];
        var files = Directory.GetDirectories(testFolder).SelectMany(folder => Directory.GetFiles(folder)
            .Select(file => (File: file, Label: Path.GetFileName(folder))));
        return files.GroupBy(f => Path.GetFileName(f.File))
            .Select(same => (same.First().File, same.Select(f => f.Label).ToArray())).ToList();
    }

    /// <summary>
    /// Each model's share of the test folder's images whose most probable label is right (multilabel: whose labels at
    /// their thresholds are exactly right, a Negative image's none); null for a model not given, or when there are no
    /// images. Multiclass images under two labels are conflicts the trainer left out, and are left out here too. A file
    /// that no longer decodes counts for neither model (the split checked it). The models share each batch.
    /// </summary>
    public static double?[] TestAccuracies(string testFolder,
        IReadOnlyList<(ModelManifest Manifest, byte[] Model)?> models, CancellationToken ct)
    {
        var test = TestFiles(testFolder);
        var multilabel = Classification.IsMultilabel(models[0]!.Value.Manifest.Classification);
        if (!multilabel) test = test.Where(t => t.Labels.Length == 1).ToList();
        var scorers = models.Select(m => m is { } x ? new Scorer(x.Model, x.Manifest) : null).ToList();
        try
        {
            var right = new int[models.Count];
            var scored = 0;
            foreach (var batch in test.Chunk(Batch))
            {
                ct.ThrowIfCancellationRequested();
                var images = Decode(batch);
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

    private static List<(Image<Rgb24> Image, string[] Labels)> Decode(IEnumerable<(string File, string[] Labels)> batch)
    {
        var images = new List<(Image<Rgb24>, string[])>();
        foreach (var (file, labels) in batch)
        {
            try { images.Add((ImageFile.Decode(file, ImageLimits.Default), labels)); }
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
