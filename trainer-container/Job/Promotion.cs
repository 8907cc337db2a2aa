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
    public static async Task<PromotionDecision> DecideAndPromoteAsync(ModelStore versions, TrainingJob job,
        ModelManifest manifest, string testFolder, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var (latest, etag) = await versions.ReadLatestAsync(job.Dataset, ct);
            var test = LoadTest(testFolder);
            try
            {
                var accuracy = Accuracy(manifest, await File.ReadAllBytesAsync(ModelPath(testFolder), ct), test)
                    ?? manifest.Metrics.Accuracy;
                string reason;
                if (latest is not null)
                {
                    var (oldModel, oldManifest) = await versions.DownloadAsync(job.Dataset, latest.Version, ct);
                    // A dataset made multilabel (or back) asks a different question: the new kind replaces the old.
                    var previous = oldManifest.Classification == manifest.Classification
                        ? Accuracy(oldManifest, oldModel, test) : null;
                    if (previous is { } old && accuracy < old)
                        return new(false, $"Test accuracy {accuracy:0.###} is below the {old:0.###} of the promoted "
                            + $"version {latest.Version}; {latest.Version} stays promoted.");
                    reason = $"Test accuracy {accuracy:0.###} against {previous?.ToString("0.###") ?? "n/a"} "
                        + $"of {latest.Version}: promoted.";
                }
                else reason = $"Test accuracy {accuracy:0.###}; the first version: promoted.";
                if (await versions.PromoteAsync(
                        new LatestModel(job.Dataset, job.JobId, job.JobId, DateTimeOffset.UtcNow, accuracy,
                            manifest.Metrics),
                        etag, ct))
                    return new(true, reason);
            }
            finally { foreach (var (image, _) in test) image.Dispose(); }
        }
        return new(false, "latest.json kept changing while this version was being promoted; it was not promoted.");
    }

    private static string ModelPath(string testFolder) =>
        Path.Combine(Path.GetDirectoryName(testFolder)!, "out", ModelFiles.Model);

    /// <summary>Each test image with its labels: the folders its file name (its content hash) is under.</summary>
    private static List<(Image<Rgb24> Image, string[] Labels)> LoadTest(string testFolder)
    {
        var test = new List<(Image<Rgb24>, string[])>();
        if (!Directory.Exists(testFolder)) return test;
        var files = Directory.GetDirectories(testFolder).SelectMany(folder => Directory.GetFiles(folder)
            .Select(file => (File: file, Label: Path.GetFileName(folder))));
        foreach (var same in files.GroupBy(f => Path.GetFileName(f.File)))
        {
            try
            {
                test.Add((ImageFile.Decode(same.First().File, ImageLimits.Default),
                    same.Select(f => f.Label).ToArray()));
            }
            catch (ImageRejectedException) { } // the split checked it; a file that now fails counts for neither model
        }
        return test;
    }

    /// <summary>
    /// Share of test images whose most probable label is right (multilabel: whose labels at their thresholds are
    /// exactly right, a Negative image's none); null when there are none. Multiclass images under two labels are
    /// conflicts the trainer left out, and are left out here too.
    /// </summary>
    private static double? Accuracy(ModelManifest manifest, byte[] model,
        List<(Image<Rgb24> Image, string[] Labels)> test)
    {
        var multilabel = Classification.IsMultilabel(manifest.Classification);
        if (!multilabel) test = test.Where(t => t.Labels.Length == 1).ToList();
        if (test.Count == 0) return null;
        using var scorer = new Scorer(model, manifest);
        var right = 0;
        foreach (var batch in test.Chunk(16))
        {
            var predictions = scorer.Score(batch.Select(t => t.Image).ToList(), multilabel ? null : 1);
            right += batch.Zip(predictions).Count(p => multilabel
                ? p.Second.Where(x => x.Probability >= manifest.Thresholds.GetValueOrDefault(x.Label, 0.5))
                    .Select(x => x.Label).ToHashSet()
                    .SetEquals(p.First.Labels.Where(l => l != Classification.Negative))
                : p.Second[0].Label == p.First.Labels[0]);
        }
        return right / (double)test.Count;
    }
}
