using System.Net.Http.Json;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using Xunit;

namespace Pipeline.Tests;

/// <summary>Multilabel datasets and label conflicts through uploads, the split, the trainer job and scoring.</summary>
[Collection(PipelineCollection.Name)]
public sealed class MultilabelPipelineTests(PipelineFixture pipeline)
{
    private async Task<ModelManifest> PromotedManifestAsync(string dataset)
    {
        var status = await pipeline.WaitForAsync(dataset, s => s.Model is not null && s.Training!.IsActive is false,
            "a promoted model", 600);
        Assert.Equal(TrainingState.Succeeded, status.Training!.State);
        using var response = await pipeline.Http.GetAsync($"datasets/{dataset}/models/latest/{ModelFiles.Manifest}");
        response.EnsureSuccessStatusCode();
        return ModelFiles.ReadManifest(await response.Content.ReadAsStringAsync());
    }

    private async Task<Dictionary<string, HashSet<string>>> ImagesBySplitAsync(string dataset)
    {
        var names = new Dictionary<string, HashSet<string>>();
        foreach (var (split, container) in new[] { ("train", pipeline.Storage.Train), ("test", pipeline.Storage.Test) })
        {
            names[split] = [];
            await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{dataset}/",
                default))
                names[split].Add(Path.GetFileName(blob.Name));
        }
        return names;
    }

    private async Task TrainAsync(string dataset)
    {
        using var response = await pipeline.Http.PostAsync($"datasets/{dataset}/train",
            JsonContent.Create(TrainingOptions.Fast, options: Json.Options));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_same_bytes_under_two_label_folders_train_as_one_image_with_both_labels()
    {
        const string dataset = "scenes";
        await pipeline.UploadAsync($"{dataset}/{DatasetSettings.FileName}",
            """{ "classification": "multilabel" }"""u8.ToArray());
        var scenes = GeneratedImages.Scenes(each: 6, seed: 11);
        var uploads = 0;
        foreach (var (scene, i) in scenes.Select((s, i) => (s, i)))
            foreach (var shape in scene.Shapes)
            {
                await pipeline.UploadAsync($"{dataset}/{GeneratedImages.Shapes[shape]}/scene-{i:000}.jpg",
                    scene.Content);
                uploads++;
            }
        var split = await pipeline.WaitForAsync(dataset, s => s.TrainImages + s.TestImages == uploads, "the split",
            120);
        Assert.Equal(Classification.Multilabel, split.Classification);
        Assert.Null(split.Conflicts);

        // Copies of one content land in one split: no image is both trained on and tested.
        var bySplit = await ImagesBySplitAsync(dataset);
        Assert.Empty(bySplit["train"].Intersect(bySplit["test"]));
        Assert.Equal(scenes.Count, bySplit["train"].Count + bySplit["test"].Count);

        await TrainAsync(dataset);
        var manifest = await PromotedManifestAsync(dataset);
        Assert.Equal(Classification.Multilabel, manifest.Classification);
        Assert.Equal(GeneratedImages.Shapes.Order(StringComparer.Ordinal), manifest.Labels);
        Assert.Equal(bySplit["test"].Count, manifest.Metrics.TestImages);
        Assert.Empty(manifest.Skipped);
        Assert.NotNull(manifest.Metrics.MeanAveragePrecision);
        // A multilabel image is not mistaken for one other label: no mistakes.json, and the API says why.
        using (var mistakes = await pipeline.Http.GetAsync($"datasets/{dataset}/models/latest/{ModelFiles.Mistakes}"))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, mistakes.StatusCode);
            Assert.Contains("multilabel models keep none", await mistakes.Content.ReadAsStringAsync());
        }

        // Scored over HTTP: independent probabilities, never renormalised to sum to 1.
        using var content = new ByteArrayContent(GeneratedImages.SceneJpeg([0, 1], new Random(12)));
        content.Headers.ContentType = new("image/jpeg");
        using var scored = await pipeline.Http.PostAsync($"score/{dataset}", content);
        scored.EnsureSuccessStatusCode();
        var predictions = (await scored.Content.ReadFromJsonAsync<ScoreResponse>(Json.Options))!.Predictions;
        Assert.Equal(3, predictions.Count);
        Assert.All(predictions.Where(p => p.Label is "circle" or "square"), p => Assert.True(p.Probability > 0.5,
            string.Join(", ", predictions.Select(x => $"{x.Label} {x.Probability:0.000}"))));
    }

    [Fact]
    public async Task A_multiclass_image_under_two_labels_is_listed_as_a_conflict_and_trained_without()
    {
        const string dataset = "conflicted";
        var images = GeneratedImages.Dataset(labels: 2, perLabel: 7, seed: 13);
        foreach (var (label, file, bytes) in images) await pipeline.UploadAsync($"{dataset}/{label}/{file}", bytes);
        var shared = images[0];
        await pipeline.UploadAsync($"{dataset}/squares/shared.jpg", shared.Content);
        var status = await pipeline.WaitForAsync(dataset, s => s.TrainImages + s.TestImages == images.Count + 1,
            "the split", 120);

        Assert.Equal(Classification.Multiclass, status.Classification);
        var conflict = Assert.Single(status.Conflicts!);
        Assert.Equal(["circles", "squares"], conflict.Labels);
        Assert.Contains("left out of training", conflict.Reason);

        await TrainAsync(dataset);
        var manifest = await PromotedManifestAsync(dataset);
        var skipped = manifest.Skipped.Where(s => s.Reason.Contains("Conflict")).ToList();
        Assert.Equal(2, skipped.Count);
        Assert.All(skipped, s => Assert.Contains("'circles' and 'squares'", s.Reason));
        Assert.Equal(images.Count - 1, manifest.ImageCounts.Values.Sum(c => c.Values.Sum()));

        // A job's mistakes name the test container's blobs, as the image routes address them.
        var mistakes = (await pipeline.Http.GetFromJsonAsync<TestMistakes>(
            $"datasets/{dataset}/models/{manifest.Version}/{ModelFiles.Mistakes}", Json.Options))!;
        Assert.Equal(TestMistakes.BlobImages, mistakes.Images);
        Assert.Equal(manifest.Labels, mistakes.Labels.Keys);
        var tested = (await ImagesBySplitAsync(dataset))["test"];
        Assert.All(mistakes.Labels.SelectMany(l => l.Value), m =>
        {
            Assert.StartsWith($"{dataset}/{m.Label}/", m.Image);
            Assert.Contains(Path.GetFileName(m.Image), tested);
        });
    }

    [Fact]
    public async Task Images_beside_labels_csv_are_sorted_under_its_labels_before_or_after_it_arrives()
    {
        const string dataset = "tagged";
        var random = new Random(21);
        await pipeline.UploadAsync($"{dataset}/{DatasetSettings.FileName}",
            """{ "classification": "multilabel" }"""u8.ToArray());
        await pipeline.UploadAsync($"{dataset}/early.jpg", GeneratedImages.SceneJpeg([0, 1], random));
        await pipeline.WaitForAsync(dataset, s => s.Rejected.Any(r => r.Path == $"{dataset}/early.jpg"),
            "the image without labels.csv to be refused", 60);

        await pipeline.UploadAsync($"{dataset}/{StorageNames.LabelsFile}", System.Text.Encoding.UTF8.GetBytes(
            "file,labels\nearly.jpg,circle;square\nlate.jpg,square\nnothing.jpg,\nbad.jpg,ci*rcle\n"));
        await pipeline.UploadAsync($"{dataset}/late.jpg", GeneratedImages.SceneJpeg([1], random));
        await pipeline.UploadAsync($"{dataset}/nothing.jpg", GeneratedImages.SceneJpeg([], random));
        await pipeline.UploadAsync($"{dataset}/stray.jpg", GeneratedImages.SceneJpeg([0], random));

        // early.jpg under circle and square, late.jpg under square, nothing.jpg under Negative.
        var status = await pipeline.WaitForAsync(dataset, s => s.TrainImages + s.TestImages == 4 &&
            s.Rejected.Any(r => r.Path == $"{dataset}/stray.jpg"), "the images beside labels.csv to be sorted", 120);
        Assert.Equal(["Negative", "circle", "square"], status.Labels.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, status.Labels["square"].Train + status.Labels["square"].Test);
        Assert.DoesNotContain(status.Rejected, r => r.Path == $"{dataset}/early.jpg");
        Assert.Contains("labels.csv", Assert.Single(status.Rejected, r => r.Path == $"{dataset}/stray.jpg").Reason);
        Assert.Contains("line 5", Assert.Single(status.Rejected,
            r => r.Path == $"{dataset}/{StorageNames.LabelsFile}").Reason);
        Assert.Null(status.Conflicts);
    }
}
