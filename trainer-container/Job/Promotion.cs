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
                var accuracy = Accuracy(manifest, await File.ReadAllBytesAsync(ModelPath(testFolder), ct), test) ?? manifest.Metrics.Accuracy;
                string reason;
                if (latest is not null)
                {
                    var (oldModel, oldManifest) = await versions.DownloadAsync(job.Dataset, latest.Version, ct);
                    var previous = Accuracy(oldManifest, oldModel, test);
                    if (previous is { } old && accuracy < old)
                        return new(false, $"Test accuracy {accuracy:0.###} is below the {old:0.###} of the promoted version {latest.Version}; {latest.Version} stays promoted.");
                    reason = $"Test accuracy {accuracy:0.###} against {previous?.ToString("0.###") ?? "n/a"} of {latest.Version}: promoted.";
                }
                else reason = $"Test accuracy {accuracy:0.###}; the first version: promoted.";
                if (await versions.PromoteAsync(new LatestModel(job.Dataset, job.JobId, job.JobId, DateTimeOffset.UtcNow, accuracy, manifest.Metrics), etag, ct))
                    return new(true, reason);
            }
            finally { foreach (var (image, _) in test) image.Dispose(); }
        }
        return new(false, "latest.json kept changing while this version was being promoted; it was not promoted.");
    }

    private static string ModelPath(string testFolder) =>
        Path.Combine(Path.GetDirectoryName(testFolder)!, "out", ModelFiles.Model);

    private static List<(Image<Rgb24> Image, string Label)> LoadTest(string testFolder)
    {
        var test = new List<(Image<Rgb24>, string)>();
        if (!Directory.Exists(testFolder)) return test;
        foreach (var labelFolder in Directory.GetDirectories(testFolder))
            foreach (var file in Directory.GetFiles(labelFolder))
            {
                try { test.Add((ImageFile.Decode(file, ImageLimits.Default), Path.GetFileName(labelFolder))); }
                catch (ImageRejectedException) { } // the split checked it; a file that now fails counts for neither model
            }
        return test;
    }

    /// <summary>Share of test images whose most probable label is right; null when there are none.</summary>
    private static double? Accuracy(ModelManifest manifest, byte[] model, List<(Image<Rgb24> Image, string Label)> test)
    {
        if (test.Count == 0) return null;
        using var scorer = new Scorer(model, manifest);
        var right = 0;
        foreach (var batch in test.Chunk(16))
        {
            var predictions = scorer.Score(batch.Select(t => t.Image).ToList(), 1);
            right += batch.Zip(predictions).Count(p => p.Second[0].Label == p.First.Label);
        }
        return right / (double)test.Count;
    }
}
