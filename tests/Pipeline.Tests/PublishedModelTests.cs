using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Pipeline.Cli;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using Pipeline.Core.Storage;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using Xunit.Abstractions;

namespace Pipeline.Tests;

/// <summary>
/// Thresholds at scoring, published names and rollback, retention, and the bounded model cache. They use the shapes
/// model <see cref="ScoringTests"/> trains, copied under new version names instead of trained again.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class PublishedModelTests(PipelineFixture pipeline, ITestOutputHelper output)
{
    private ModelStore Versions => pipeline.Service<ModelStore>();
    private PublishedNameStore Names => pipeline.Service<PublishedNameStore>();

    [Fact]
    public async Task Every_prediction_carries_its_threshold_and_the_answer_lists_the_labels_that_reach_it()
    {
        var images = await ScoringTests.TrainedShapesAsync(pipeline);
        const string dataset = ScoringTests.Dataset;
        var (latest, _) = await Versions.ReadLatestAsync(dataset, default);
        var manifest = (await Versions.ReadManifestAsync(dataset, latest!.Version, default))!;
        Assert.Equal(GeneratedImages.Labels, manifest.Thresholds.Keys.Order());

        var sample = images.Where((_, i) => i % 3 == 0).ToList();
        var labelled = 0;
        foreach (var (label, _, content) in sample)
        {
            var answer = await ScoreAsync(dataset, content);
            Assert.Equal(3, answer.Predictions.Count);
            Assert.All(answer.Predictions, p =>
            {
                Assert.Equal(manifest.Thresholds[p.Label], p.Threshold, 6);
                Assert.Equal(p.Probability >= p.Threshold, p.AboveThreshold);
            });
            Assert.Equal(answer.Predictions.Where(p => p.AboveThreshold).Select(p => p.Label), answer.Labels);
            if (answer.Labels.SequenceEqual([label])) labelled++;
        }
        Assert.True(labelled >= sample.Count * 0.75, $"{labelled} of {sample.Count} got exactly their own label");

        // One threshold for the call: labels no longer depend on model.json's, and top cuts only the predictions.
        var image = images[0].Content;
        var low = await ScoreAsync(dataset, image, "?threshold=0&top=1");
        Assert.Equal(0, Assert.Single(low.Predictions).Threshold);
        Assert.Equal(3, low.Labels.Count);
        var high = await ScoreAsync(dataset, image, "?threshold=1&top=1&all=true");
        Assert.Equal(3, high.Predictions.Count);
        Assert.Equal(high.Predictions.Where(p => p.Probability >= 1).Select(p => p.Label), high.Labels);
        Assert.Contains(high.Predictions, p => !p.AboveThreshold);

        // The fields as a client reads them: today's kept, the new ones added.
        using var raw = await PostAsync(dataset, image, "?top=1");
        using var json = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
        var first = json.RootElement.GetProperty("predictions")[0];
        foreach (var field in new[] { "label", "probability", "threshold", "aboveThreshold" })
            Assert.True(first.TryGetProperty(field, out _), $"no {field} in {first}");
        Assert.Equal(JsonValueKind.Array, json.RootElement.GetProperty("labels").ValueKind);

        Assert.Contains("from 0 to 1", await ProblemAsync(dataset, image, "?threshold=1.5", HttpStatusCode.BadRequest));
        Assert.Contains("true or false", await ProblemAsync(dataset, image, "?all=maybe", HttpStatusCode.BadRequest));
        Assert.Contains("not both", await ProblemAsync(dataset, image, $"?model=a&version={latest.Version}",
            HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task A_name_is_published_rolled_back_while_clients_score_without_a_failed_request_and_unpublished()
    {
        const string dataset = "publish-shapes";
        const string older = "20260101-000000-aaaaaa", newer = "20260102-000000-bbbbbb";
        var image = (await CopyShapesAsync(dataset, older, newer))[0].Content;
        Assert.Contains("Published names: none",
            await ProblemAsync(dataset, image, "?model=production", HttpStatusCode.NotFound));

        var published = await PublishAsync(dataset, newer, "production");
        Assert.Null(published.Previous);
        await PublishAsync(dataset, older, "staging");
        var byName = await ScoreAsync(dataset, image, "?model=production");
        Assert.Equal((newer, "production"), (byName.ModelVersion, byName.Model));
        Assert.Equal(older, (await ScoreAsync(dataset, image, $"?version={older}")).ModelVersion);
        var models = (await pipeline.Http.GetFromJsonAsync<ModelVersionList>($"datasets/{dataset}/models",
            Json.Options))!;
        Assert.Equal([("production", newer), ("staging", older)], models.Names!.Select(n => (n.Name, n.Version)));
        Assert.Equal(["staging"], models.Versions.Single(v => v.Version == older).Names!);

        // Roll back: the older version under the same name, while four clients keep scoring by the name.
        using var stop = new CancellationTokenSource();
        var seen = new ConcurrentQueue<(HttpStatusCode Status, string? Version)>();
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await PostAsync(dataset, image, "?model=production");
                seen.Enqueue((response.StatusCode, response.IsSuccessStatusCode
                    ? (await response.Content.ReadFromJsonAsync<ScoreResponse>(Json.Options))!.ModelVersion
                    : await response.Content.ReadAsStringAsync()));
            }
        })).ToList();
        await Until(() => seen.Count(s => s.Version == newer) >= 4, "answers from the published version");
        var rollback = await PublishAsync(dataset, older, "production");
        Assert.Equal((older, newer), (rollback.Version, rollback.Previous));
        await Until(() => seen.Count(s => s.Version == older) >= 8, "answers from the version rolled back to");
        stop.Cancel();
        await Task.WhenAll(clients);

        output.WriteLine($"{seen.Count} answers: {seen.Count(s => s.Version == newer)} from {newer}, " +
            $"{seen.Count(s => s.Version == older)} from {older}");
        Assert.All(seen, s => Assert.True(s.Status == HttpStatusCode.OK, $"{s.Status}: {s.Version}"));
        Assert.All(seen.TakeLast(4), s => Assert.Equal(older, s.Version));

        // Unpublish: from a version the name does not point to is a conflict; from its own version it goes.
        using (var wrong = await pipeline.Http.DeleteAsync($"datasets/{dataset}/models/{newer}/publish/production"))
            Assert.Equal(HttpStatusCode.Conflict, wrong.StatusCode);
        using (var removed = await pipeline.Http.DeleteAsync($"datasets/{dataset}/models/{older}/publish/production"))
        {
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
            var left = (await removed.Content.ReadFromJsonAsync<PublishResponse>(Json.Options))!;
            Assert.Equal(["staging"], left.Names.Select(n => n.Name));
        }
        // Within the refresh period the name stops answering, with a 404 that names what there is.
        string? gone = null;
        await Until(async () =>
        {
            using var response = await PostAsync(dataset, image, "?model=production");
            if (response.StatusCode != HttpStatusCode.NotFound) return false;
            gone = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement
                .GetProperty("detail").GetString();
            return true;
        }, "the unpublished name to stop answering");
        Assert.Contains("no model published as 'production'", gone);
        Assert.Contains($"'staging' → {older}", gone);
    }

    [Fact]
    public async Task The_command_line_publishes_lists_scores_by_name_and_unpublishes()
    {
        const string dataset = "cli-publish";
        const string version = "20260103-000000-cccccc";
        var images = await CopyShapesAsync(dataset, version);
        var file = Path.Combine(Path.GetTempPath(), $"cli-publish-{Guid.NewGuid():N}.jpg");
        await File.WriteAllBytesAsync(file, images[0].Content);
        try
        {
            var publish = await RunCliAsync("publish", dataset, version, "--name", "production");
            Assert.Equal(ExitCodes.Ok, publish.Code);
            Assert.Contains($"production → {version}", publish.Out);
            var models = await RunCliAsync("models", dataset);
            Assert.Matches($@"{version} .*\bproduction", models.Out);
            var score = await RunCliAsync("score", file, "--dataset", dataset, "--model", "production", "--all");
            Assert.Equal(ExitCodes.Ok, score.Code);
            Assert.Contains("threshold", score.Out);
            Assert.Contains("(published as 'production')", score.Out);
            Assert.Equal(1 + 3 + 1, score.Out.Trim().Split('\n').Length);     // header, every label, model line
            Assert.Equal(ExitCodes.NotFound,
                (await RunCliAsync("score", file, "--dataset", dataset, "--model", "nothing")).Code);
            Assert.Equal(ExitCodes.Usage, (await RunCliAsync("publish", dataset, version, "--name", "a b")).Code);
            var unpublish = await RunCliAsync("unpublish", dataset, version, "--name", "production");
            Assert.Equal(ExitCodes.Ok, unpublish.Code);
            Assert.Contains("No published names.", unpublish.Out);
            Assert.Equal(ExitCodes.NotFound, (await RunCliAsync("unpublish", dataset, version, "--name", "production"))
                .Code);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task Retention_removes_the_oldest_versions_and_keeps_the_promoted_the_named_and_the_newest()
    {
        const string dataset = "retention";
        var versions = Enumerable.Range(1, 6).Select(i => $"2026010{i}-000000-dddddd").ToArray();
        foreach (var version in versions)
            foreach (var file in new[] { ModelFiles.Model, ModelFiles.Manifest })
                await Versions.VersionFile(dataset, version, file).UploadAsync(new BinaryData("{}"u8.ToArray()));
        Assert.True(await Versions.PromoteAsync(new LatestModel(dataset, versions[1], versions[1],
            DateTimeOffset.UtcNow, 0.9, null), null, default));
        await PublishAsync(dataset, versions[0], "production");
        await PublishAsync(dataset, versions[2], "canary");
        var retention = new ModelRetention(Versions, Names,
            Options.Create(new PipelineOptions { KeepVersions = 3 }), NullLogger<ModelRetention>.Instance);

        Assert.Equal([versions[3], versions[4]], await retention.ApplyAsync(dataset, default));
        Assert.Equal([versions[0], versions[1], versions[2], versions[5]],
            await Versions.ListVersionsAsync(dataset, default));
        Assert.Empty(await Versions.ListFilesAsync(dataset, versions[3], default));

        // Once no name points to it, a version is like any other.
        using (var removed = await pipeline.Http.DeleteAsync($"datasets/{dataset}/models/{versions[2]}/publish/canary"))
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal([versions[2]], await retention.ApplyAsync(dataset, default));
        Assert.Equal([versions[0], versions[1], versions[5]], await Versions.ListVersionsAsync(dataset, default));
    }

    [Fact]
    public async Task Past_the_model_limit_the_least_recently_used_is_let_go_without_failing_a_request()
    {
        const string dataset = "evict-shapes";
        string[] versions = ["20260104-000000-eeeeee", "20260105-000000-eeeeee", "20260106-000000-eeeeee"];
        var images = await CopyShapesAsync(dataset, versions);
        var options = Options.Create(new PipelineOptions { MaxLoadedModels = 2 });
        using var cache = new ModelCache(Versions, Names, options, NullLogger<ModelCache>.Instance);

        // A request in flight keeps scoring with its model while later ones push that model out of the cache.
        using (var held = (await cache.AcquireAsync(dataset, new ModelChoice(Version: versions[0]), default))!)
        {
            foreach (var version in versions[1..])
                using (await cache.AcquireAsync(dataset, new ModelChoice(Version: version), default)) { }
            Assert.Equal(2, cache.LoadedCount);
            using var image = Image.Load<Rgb24>(images[0].Content);
            Assert.Equal(3, Assert.Single(held.Scorer.Probabilities([image])).Length);
        }

        // Four clients cycle through three versions with room for two: models come and go under them.
        var scores = new ScoreService(cache, pipeline.Service<DatasetImageStore>(), Names,
            pipeline.Service<PredictionStore>(), options);
        var upload = new ImageUpload("a.jpg", images[0].Content);
        var wrong = new ConcurrentBag<string>();
        var most = 0;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(client => Task.Run(async () =>
        {
            for (var i = 0; i < 6; i++)
            {
                var version = versions[(client + i) % versions.Length];
                var result = await scores.ScoreAsync(dataset, [upload], new ScoreQuery(Version: version), default);
                if (result.Value?.ModelVersion != version) wrong.Add($"{version}: {result.Problem}");
                var loaded = cache.LoadedCount;
                int seen;
                while ((seen = Volatile.Read(ref most)) < loaded
                    && Interlocked.CompareExchange(ref most, loaded, seen) != seen) { }
            }
        })));
        Assert.Empty(wrong);
        Assert.InRange(most, 1, 2);
    }

    /// <summary>The promoted shapes model's files, copied to <paramref name="dataset"/> as each of
    /// <paramref name="versions"/> (model.json last, as the trainer writes them); returns the shapes images.</summary>
    private async Task<List<(string Label, string File, byte[] Content)>> CopyShapesAsync(string dataset,
        params string[] versions)
    {
        var images = await ScoringTests.TrainedShapesAsync(pipeline);
        var (latest, _) = await Versions.ReadLatestAsync(ScoringTests.Dataset, default);
        var files = new Dictionary<string, BinaryData>();
        foreach (var file in new[] { ModelFiles.Model, ModelFiles.Manifest })
            files[file] = (await Versions.VersionFile(ScoringTests.Dataset, latest!.Version, file)
                .DownloadContentAsync()).Value.Content;
        foreach (var version in versions)
            foreach (var file in new[] { ModelFiles.Model, ModelFiles.Manifest })
                await Versions.VersionFile(dataset, version, file).UploadAsync(files[file], overwrite: true);
        return images;
    }

    private async Task<PublishResponse> PublishAsync(string dataset, string version, string name)
    {
        using var response = await pipeline.Http.PostAsync($"datasets/{dataset}/models/{version}/publish",
            JsonContent.Create(new { name }));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var answer = (await response.Content.ReadFromJsonAsync<PublishResponse>(Json.Options))!;
        Assert.Equal((name, version), (answer.Name, answer.Version));
        return answer;
    }

    private async Task<HttpResponseMessage> PostAsync(string dataset, byte[] image, string query)
    {
        using var content = new ByteArrayContent(image)
        { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } };
        return await pipeline.Http.PostAsync($"score/{dataset}{query}", content);
    }

    private async Task<ScoreResponse> ScoreAsync(string dataset, byte[] image, string query = "")
    {
        using var response = await PostAsync(dataset, image, query);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ScoreResponse>(Json.Options))!;
    }

    /// <summary>The problem's detail, after checking its status and type.</summary>
    private async Task<string> ProblemAsync(string dataset, byte[] image, string query, HttpStatusCode expected)
    {
        using var response = await PostAsync(dataset, image, query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode,
            $"{query}: expected {expected}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString()!;
    }

    private static Task Until(Func<bool> done, string what) => Until(() => Task.FromResult(done()), what);

    private static async Task Until(Func<Task<bool>> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited 60 s for {what}.");
            await Task.Delay(100);
        }
    }

    private async Task<(int Code, string Out, string Err)> RunCliAsync(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        string[] all = [.. args, "--connection-string", pipeline.Azurite.ConnectionString, "--api",
            pipeline.Http.BaseAddress!.ToString()];
        var code = await PipelineCli.RunAsync(all, new CliConsole(stdout, stderr, Interactive: false), default);
        output.WriteLine($"pipeline {string.Join(' ', args)} -> {code}\n{stdout}{stderr}");
        return (code, stdout.ToString(), stderr.ToString());
    }
}
