using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using SixLabors.ImageSharp;
using Xunit;

namespace Pipeline.Tests;

/// <summary>
/// The studio's routes on the real local host and Azurite: a dataset made by name, images uploaded through the API and
/// split as any upload (a corrupt one refused with its reason), known hashes, a paged listing, a small thumbnail, a
/// move and a delete that the dataset's counts (what the next training reads) follow. One label only, so that no
/// training starts.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class DatasetImagesTests(PipelineFixture pipeline)
{
    private const string Dataset = "studio-api";

    [Fact]
    public async Task Images_uploaded_through_the_api_are_split_listed_thumbnailed_moved_and_deleted()
    {
        using (var created = await pipeline.Http.PostAsJsonAsync("datasets", new { name = Dataset }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using (var again = await pipeline.Http.PostAsJsonAsync("datasets", new { name = Dataset }))
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await AssertProblemAsync(await pipeline.Http.PostAsJsonAsync("datasets", new { name = "Bad_Name" }), 400,
            "Invalid dataset name");
        Assert.NotNull(await pipeline.StatusAsync(Dataset));

        var random = new Random(13);
        var images = Enumerable.Range(0, 4).Select(i => GeneratedImages.Jpeg(0, random, i == 0 ? 400 : 80)).ToList();
        for (var i = 0; i < images.Count; i++)
        {
            using var put = await PutAsync($"circles/c{i}.jpg", images[i]);
            Assert.Equal(HttpStatusCode.Accepted, put.StatusCode);
            var answer = await put.Content.ReadFromJsonAsync<ImageUploadResponse>(Json.Options);
            Assert.Equal($"uploads/{Dataset}/circles/c{i}.jpg", answer!.Upload);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(images[i])), answer.Sha256);
        }
        using (var corrupt = await PutAsync("circles/broken.jpg", images[1][..200]))
            Assert.Equal(HttpStatusCode.Accepted, corrupt.StatusCode);
        await AssertProblemAsync(await PutAsync("bad*label/x.jpg", images[1]), 400, "Invalid upload path");
        await AssertProblemAsync(await PutAsync("circles/x.jpg?split=later", images[1]), 400, "Invalid split");
        using (var huge = new ByteArrayContent(new byte[PipelineFixture.MaxImageBytes + 1]))
            await AssertProblemAsync(await pipeline.Http.PutAsync($"datasets/{Dataset}/images/circles/huge.jpg", huge),
                413, "Image too large");

        var status = await pipeline.WaitForAsync(Dataset, s => s.TrainImages + s.TestImages == 4
            && s.Rejected.Any(r => r.Path.EndsWith("broken.jpg")), "the split of the uploads", 60);
        Assert.Contains("corrupt", status.Rejected.Single(r => r.Path == $"{Dataset}/circles/broken.jpg").Reason,
            StringComparison.OrdinalIgnoreCase);

        var hashes = images.Take(2).Select(i => Convert.ToHexStringLower(SHA256.HashData(i))).ToList();
        var unknown = Convert.ToHexStringLower(SHA256.HashData([1, 2, 3]));
        using (var known = await pipeline.Http.PostAsJsonAsync($"datasets/{Dataset}/images/known",
            new { sha256 = hashes.Append(unknown) }))
            Assert.Equal(hashes.Order(), (await known.Content.ReadFromJsonAsync<KnownImagesResponse>(Json.Options))!
                .Known.Order());

        var all = await PageAsync("?label=circles&take=50");
        Assert.Equal(4, all.Total);
        var page = await PageAsync("?label=circles&take=3&skip=3");
        Assert.Single(page.Images);
        Assert.Equal(4, page.Total);
        await AssertProblemAsync(await pipeline.Http.GetAsync($"datasets/{Dataset}/images?take=0"), 400,
            "Invalid take");

        var large = all.Images.Single(i => i.Bytes == images[0].Length);
        using (var thumbnail = await pipeline.Http.GetAsync(
            $"datasets/{Dataset}/thumbnails/{large.Split}/circles/{large.File}"))
        {
            Assert.Equal("image/jpeg", thumbnail.Content.Headers.ContentType!.MediaType);
            using var picture = Image.Load(await thumbnail.Content.ReadAsByteArrayAsync());
            Assert.Equal(DatasetImagesApi.ThumbnailSide, Math.Max(picture.Width, picture.Height));
        }
        await AssertProblemAsync(await pipeline.Http.GetAsync(
            $"datasets/{Dataset}/thumbnails/train/circles/{new string('0', 32)}.jpg"), 404, "No such image");

        var moved = all.Images.First(i => i != large);
        using (var move = await pipeline.Http.PostAsJsonAsync(
            $"datasets/{Dataset}/images/{moved.Split}/circles/{moved.File}/label", new { label = "squares" }))
            Assert.Equal("squares", (await move.Content.ReadFromJsonAsync<MoveImageResponse>(Json.Options))!.To.Label);
        status = (await pipeline.StatusAsync(Dataset))!;
        Assert.Equal(3, status.Labels["circles"].Train + status.Labels["circles"].Test);
        Assert.Equal(1, status.Labels["squares"].Train + status.Labels["squares"].Test);
        var source = Array.FindIndex(images.ToArray(), i => i.Length == moved.Bytes);
        Assert.False((await pipeline.Upload($"{Dataset}/circles/c{source}.jpg").ExistsAsync()).Value,
            "The moved image's upload is gone, so a sweep after a restart cannot bring it back under circles.");

        using (var delete = await pipeline.Http.DeleteAsync(
            $"datasets/{Dataset}/images/{large.Split}/circles/{large.File}"))
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        status = (await pipeline.StatusAsync(Dataset))!;
        Assert.Equal(2, status.Labels["circles"].Train + status.Labels["circles"].Test);
        Assert.False((await pipeline.Upload($"{Dataset}/circles/c0.jpg").ExistsAsync()).Value);
        await AssertProblemAsync(await pipeline.Http.DeleteAsync(
            $"datasets/{Dataset}/images/{large.Split}/circles/{large.File}"), 404, "No such image");
    }

    [Fact]
    public async Task Training_options_list_every_option_the_trainer_documents_and_the_fast_setting()
    {
        var list = (await pipeline.Http.GetFromJsonAsync<TrainingOptionList>("training/options", Json.Options))!;

        Assert.Equal(TrainingOptions.All.Select(o => o.Flag), list.Options.Select(o => o.Flag));
        var fineTune = list.Options.Single(o => o.Json == "fineTune");
        Assert.Equal(["auto", "always", "never"], fineTune.Choices!);
        Assert.Equal("choice", fineTune.Type);
        Assert.False(list.Options.Single(o => o.Flag == "--float").Value);
        Assert.True(list.Options.Single(o => o.Flag == "--flip-tta").Value);
        Assert.Equal("integer", list.Options.Single(o => o.Json == "seed").Type);
        Assert.Equal(TrainingOptions.Fast.FineTune, list.Fast.FineTune);
    }

    private Task<HttpResponseMessage> PutAsync(string path, byte[] content) =>
        pipeline.Http.PutAsync($"datasets/{Dataset}/images/{path}", new ByteArrayContent(content));

    private async Task<ImagePage> PageAsync(string query) =>
        (await pipeline.Http.GetFromJsonAsync<ImagePage>($"datasets/{Dataset}/images{query}", Json.Options))!;

    private static async Task AssertProblemAsync(HttpResponseMessage response, int status, string title)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == status, $"{response.StatusCode}: {body}");
            using var problem = JsonDocument.Parse(body);
            Assert.Equal(title, problem.RootElement.GetProperty("title").GetString());
        }
    }
}
