using System.Collections.Concurrent;
using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;
using Pipeline.Core.Images;
using Pipeline.Core.Storage;

namespace Pipeline.Cli;

/// <summary>
/// <c>pipeline import customvision --endpoint --training-key --project --dataset</c>: a Custom Vision project's tagged
/// images, read through its Training API v3.3, uploaded as uploads/{dataset}/{tag}/{image id}.{ext} (a multilabel
/// image under each of its tags), where the split takes them. Parallel; an image already uploaded is skipped, so
/// running it again after a cut finishes the rest. The project's id and tag ids are kept as the dataset's, so
/// Prediction API clients keep their project id; its classification type goes to dataset.json. Untagged images are
/// not training data: they are counted and left.
/// </summary>
public static class ImportCommand
{
    public static Command Create(CliOptions options)
    {
        var endpoint = new Option<string>("--endpoint")
        {
            Description = "the Custom Vision training resource, https://<name>.cognitiveservices.azure.com/",
            Required = true,
        };
        var key = new Option<string>("--training-key") { Description = "its training key", Required = true };
        var project = new Option<Guid>("--project") { Description = "the project id", Required = true };
        var dataset = CliOptions.DatasetOption();
        var parallel = CliOptions.AtLeast("--parallel", 1, 8, "images downloaded and uploaded at once");
        var pageSize = CliOptions.AtLeast("--page-size", 1, 256, "tagged images asked for per Training API call");
        var customVision = new Command("customvision", "Import a Custom Vision project's tagged images")
        { endpoint, key, project, dataset, parallel, pageSize };
        customVision.SetAction((parse, ct) => options.RunAsync(parse, connection =>
            RunAsync(new Uri(parse.GetValue(endpoint)!), parse.GetValue(key)!, parse.GetValue(project),
                parse.GetValue(dataset)!, parse.GetValue(parallel), parse.GetValue(pageSize), connection,
                options.Console, ct), ct));
        return new Command("import", "Import images from another service") { customVision };
    }

    private sealed record ProjectSettings(string? ClassificationType);
    private sealed record Project(Guid Id, string? Name, ProjectSettings? Settings);
    private sealed record Tag(Guid Id, string Name, string? Type);
    private sealed record ImageTag(Guid TagId, string? TagName);
    private sealed record TaggedImage(Guid Id, string OriginalImageUri, IReadOnlyList<ImageTag>? Tags);

    public static async Task<int> RunAsync(Uri endpoint, string key, Guid project, string dataset, int parallel,
        int pageSize, Connection connection, CliConsole console, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) throw new CliException(ExitCodes.Usage, badName);
        using var api = new TrainingApi(endpoint, key, console);
        var projectPath = $"customvision/v3.3/training/projects/{project}";
        var about = await api.GetAsync<Project>(projectPath, ct);
        var classification = string.Equals(about.Settings?.ClassificationType, "Multilabel",
            StringComparison.OrdinalIgnoreCase) ? Classification.Multilabel : Classification.Multiclass;
        var tags = await api.GetAsync<List<Tag>>($"{projectPath}/tags", ct);
        // Custom Vision's Negative tag stays Negative; a tag whose name cannot be a label folder is reported.
        var labels = tags.ToDictionary(t => t.Id,
            t => t.Type == "Negative" ? "Negative" : Names.NormalizeLabel(t.Name));
        var badTags = labels.Where(l => Names.CheckLabel(l.Value) is not null).ToList();
        foreach (var (_, label) in badTags)
            console.Error.WriteLine($"Tag '{label}' is skipped: {Names.CheckLabel(label)}");

        var images = new List<TaggedImage>();
        for (var skip = 0; ; skip += pageSize)
        {
            var page = await api.GetAsync<List<TaggedImage>>(
                $"{projectPath}/images/tagged?take={pageSize}&skip={skip}", ct);
            images.AddRange(page);
            if (page.Count < pageSize) break;
        }
        var untagged = await UntaggedCountAsync(api, projectPath, ct);
        console.Out.WriteLine($"Project {project} ({about.Name}, {classification}): {tags.Count} tags, " +
            $"{images.Count} tagged images.");

        // Before the images, so that a training the split starts already knows the dataset's kind.
        var storage = connection.Storage;
        await WriteClassificationAsync(storage, dataset, classification, console, ct);
        var (uploaded, skipped, failed) = (0, 0, new ConcurrentBag<string>());
        var parallelism = new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct };
        await Parallel.ForEachAsync(images, parallelism,
            async (image, token) =>
            {
                var targets = (image.Tags ?? []).Select(t => labels.GetValueOrDefault(t.TagId))
                    .Where(l => l is not null && Names.CheckLabel(l) is null).Distinct().ToList();
                if (targets.Count == 0) return;
                var existing = await FindExistingAsync(storage, dataset, targets!, image.Id, token);
                if (existing.Count == targets.Count) { Interlocked.Increment(ref skipped); return; }
                byte[] content;
                try { content = await api.DownloadAsync(image.OriginalImageUri, token); }
                catch (HttpRequestException e)
                {
                    failed.Add($"{image.Id}: {e.Message}");
                    return;
                }
                string extension;
                try { extension = ImageFile.Extension(ImageFile.Identify(content, ImageLimits.Default).Format); }
                catch (ImageRejectedException e) { failed.Add($"{image.Id}: {e.Reason}"); return; }
                foreach (var label in targets.Except(existing))
                    await storage.Uploads.GetBlobClient($"{dataset}/{label}/{image.Id}{extension}")
                        .UploadAsync(new BinaryData(content), overwrite: true, token);
                Interlocked.Increment(ref uploaded);
            });

        // The project's ids become the dataset's, so Prediction API clients keep the project id they use.
        var projects = new ProjectStore(storage, new DatasetImageStore(storage));
        await projects.WriteAsync(dataset, new DatasetProject(project,
            labels.Where(l => Names.CheckLabel(l.Value) is null).GroupBy(l => l.Value)
                .ToDictionary(g => g.Key, g => g.First().Key)), overwrite: true, ct);

        console.Out.WriteLine($"Imported {uploaded} images into uploads/{dataset}/, {skipped} already there, " +
            $"{failed.Count} failed.");
        // Custom Vision's untagged images are not training data; they stay there, and are said so.
        if (untagged is null) console.Out.WriteLine("Untagged images are not imported (their count is unknown).");
        else if (untagged > 0)
            console.Out.WriteLine($"Skipped {untagged} untagged images: they are not training data. Tag them in " +
                $"Custom Vision and import again, or upload them into uploads/{dataset}/<label>/.");
        foreach (var failure in failed.Take(20)) console.Error.WriteLine($"  failed {failure}");
        if (failed.IsEmpty) return ExitCodes.Ok;
        console.Error.WriteLine("Run the same command again to import the rest.");
        return ExitCodes.Failed;
    }

    /// <summary>The project's untagged images, which are not imported; null when Custom Vision does not say.
    /// </summary>
    private static async Task<int?> UntaggedCountAsync(TrainingApi api, string projectPath, CancellationToken ct)
    {
        try { return await api.GetAsync<int>($"{projectPath}/images/untagged/count", ct); }
        catch (CliException) { return null; }
    }

    /// <summary>
    /// uploads/{dataset}/dataset.json with the project's classification type, other settings kept; written only when
    /// it changes, so a resumed import does not write it again.
    /// </summary>
    private static async Task WriteClassificationAsync(PipelineStorage storage, string dataset,
        string classification, CliConsole console, CancellationToken ct)
    {
        var current = await new DatasetImageStore(storage).ReadSettingsAsync(dataset, ct);
        if (current.Classification == classification) return;
        if (current.Classification is { } other)
            console.Error.WriteLine($"{DatasetSettings.FileName} said \"{other}\"; the project is {classification}.");
        await storage.Uploads.GetBlobClient(BlobPaths.DatasetSettings(dataset)).UploadAsync(
            BinaryData.FromObjectAsJson(current with { Classification = classification }, Json.Options),
            new BlobUploadOptions { HttpHeaders = new() { ContentType = "application/json" } }, ct);
    }

    /// <summary>The labels under which this image is uploaded already, whatever its extension.</summary>
    private static async Task<List<string>> FindExistingAsync(PipelineStorage storage, string dataset,
        IEnumerable<string?> labels, Guid id, CancellationToken ct)
    {
        var found = new List<string>();
        foreach (var label in labels)
            await foreach (var _ in storage.Uploads.GetBlobsAsync(BlobTraits.None,
                BlobStates.None, $"{dataset}/{label}/{id}.", ct))
            {
                found.Add(label!);
                break;
            }
        return found;
    }

    /// <summary>Custom Vision's Training API with its key; a throttled call (429) waits its Retry-After and is sent
    /// again.</summary>
    private sealed class TrainingApi(Uri endpoint, string key, CliConsole console) : IDisposable
    {
        private const int MaxThrottled = 10;
        private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(100) };

        public async Task<T> GetAsync<T>(string path, CancellationToken ct)
        {
            var uri = new Uri(new Uri(endpoint.ToString().TrimEnd('/') + "/"), path);
            using var response = await SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.Add("Training-Key", key);
                return request;
            }, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                throw new CliException(ExitCodes.Unreachable,
                    $"Custom Vision refused the training key ({(int)response.StatusCode}): {Message(body)}");
            if (response.StatusCode == HttpStatusCode.NotFound)
                throw new CliException(ExitCodes.NotFound, $"Custom Vision has no such project: {Message(body)}");
            if (!response.IsSuccessStatusCode)
                throw new CliException(ExitCodes.Failed,
                    $"Custom Vision answered {(int)response.StatusCode} to {path}: {Message(body)}");
            return JsonSerializer.Deserialize<T>(body, Json.Options)
                ?? throw new CliException(ExitCodes.Failed, $"Custom Vision answered {path} with nothing.");
        }

        public async Task<byte[]> DownloadAsync(string uri, CancellationToken ct)
        {
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, uri), ct);
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadAsByteArrayAsync(ct);
        }

        private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, CancellationToken ct)
        {
            for (var attempt = 1; ; attempt++)
            {
                using var message = request();
                var response = await http.SendAsync(message, ct);
                if (response.StatusCode != HttpStatusCode.TooManyRequests || attempt >= MaxThrottled) return response;
                var wait = response.Headers.RetryAfter?.Delta
                    ?? (response.Headers.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : (TimeSpan?)null)
                    ?? TimeSpan.FromSeconds(attempt);
                response.Dispose();
                console.Error.WriteLine($"Custom Vision is throttling; waiting {wait.TotalSeconds:0} s as it asks.");
                await Task.Delay(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, ct);
            }
        }

        private static string Message(string body)
        {
            try { return JsonDocument.Parse(body).RootElement.GetProperty("message").GetString() ?? body; }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            { return body.Length > 200 ? body[..200] : body; }
        }

        public void Dispose() => http.Dispose();
    }
}
