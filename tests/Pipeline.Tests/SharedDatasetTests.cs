using System.Net.Http.Headers;
using System.Net.Http.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using Pipeline.Core.Training;
using Pipeline.Local;
using Xunit;

namespace Pipeline.Tests;

/// <summary>Real photos from ../shared/datasets (beside the repository); skipped where that folder is absent.</summary>
[Collection(PipelineCollection.Name)]
public sealed class SharedDatasetTests(PipelineFixture pipeline)
{
    [SkippableFact]
    public async Task Hymenoptera_from_shared_datasets_uploaded_as_a_user_would_scores_at_least_0_9_on_val_over_http()
    {
        var folder = Path.Combine(Path.GetDirectoryName(RepoRoot.Find())!, "shared", "datasets", "hymenoptera");
        Skip.IfNot(Directory.Exists(folder),
            $"../shared/datasets/hymenoptera is absent beside the repository ({folder}).");
        const string dataset = "hymenoptera";

        var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories);
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (file, ct) =>
            await pipeline.Upload($"{dataset}/{Path.GetRelativePath(folder, file).Replace('\\', '/')}")
                .UploadAsync(file, overwrite: true, ct));
        await pipeline.WaitForAsync(dataset, s => s.TrainImages + s.TestImages + s.Rejected.Count == files.Length,
            "every photo to be split", 600);
        var status = await pipeline.WaitForAsync(dataset, s => s.Model is not null && s.Training is
        {
            IsActive: false,
            Next: null, Trained: { } t
        } && t.TrainImages + t.TestImages == s.TrainImages + s.TestImages,
            "a promoted model of every photo", 1200);
        Assert.Equal(TrainingState.Succeeded, status.Training!.State);

        var val = Directory.GetFiles(Path.Combine(folder, "val"), "*", SearchOption.AllDirectories);
        var right = 0;
        foreach (var file in val)
        {
            using var content = new ByteArrayContent(await File.ReadAllBytesAsync(file))
            { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } };
            using var response = await pipeline.Http.PostAsync($"score/{dataset}?top=1", content);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            var score = (await response.Content.ReadFromJsonAsync<ScoreResponse>(Json.Options))!;
            if (score.Predictions[0].Label == Path.GetFileName(Path.GetDirectoryName(file))) right++;
        }
        var accuracy = right / (double)val.Length;
        Assert.True(accuracy >= 0.9, $"val accuracy {accuracy:0.###} ({right} of {val.Length})");
    }
}
