using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Pipeline.Local;
using Xunit;

namespace Pipeline.Tests;

/// <summary>
/// The Custom Vision Prediction API as its official client sends it, written from the public swagger
/// (Prediction/stable/v3.0 and v3.1/Prediction.json), not from our code: a plain HttpClient, the routes, the
/// Prediction-Key header, octet-stream and multipart part imageData, and the answer's JSON names and types of
/// ImagePrediction and CustomVisionError. Uses the shapes model <see cref="ScoringTests"/> trains.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class CustomVisionTests(PipelineFixture pipeline)
{
    private const string Dataset = ScoringTests.Dataset;
    private const string PublishedName = "customvision";

    [Fact]
    public async Task The_official_clients_requests_get_custom_visions_answer_in_every_form_it_sends()
    {
        var images = await ScoringTests.TrainedShapesAsync(pipeline);
        var projectId = await ProjectIdAsync();
        Assert.Equal(projectId, await ProjectIdAsync());
        var version = await PublishLatestAsync();

        var cases = new (string Api, string Prediction, string Project, string Iteration, bool Multipart)[]
        {
            ("v3.0", "Prediction", projectId.ToString(), "latest", false),
            ("v3.0", "prediction", Dataset, PublishedName, true),
            ("v3.1", "prediction", projectId.ToString(), PublishedName, true),
            ("v3.1", "Prediction", Dataset, "latest", false),
        };
        var tagIds = new Dictionary<string, string>();
        var iterations = new HashSet<string>();
        foreach (var (api, prediction, project, iteration, multipart) in cases)
        {
            var right = 0;
            foreach (var (label, _, content) in images.Where((_, i) => i % 4 == 0))
            {
                using var response = await ClassifyAsync(api, prediction, project, iteration, content, multipart);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK,
                    $"{api} {prediction} {project} {iteration}: {body}");
                Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                Assert.Equal(["created", "id", "iteration", "predictions", "project"],
                    root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
                Assert.True(Guid.TryParse(root.GetProperty("id").GetString(), out _));
                Assert.Equal(projectId, Guid.Parse(root.GetProperty("project").GetString()!));
                iterations.Add(Guid.Parse(root.GetProperty("iteration").GetString()!).ToString());
                Assert.True(DateTimeOffset.TryParse(root.GetProperty("created").GetString(), out var created));
                Assert.InRange(created, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));

                var predictions = root.GetProperty("predictions").EnumerateArray().ToList();
                Assert.Equal(GeneratedImages.Labels, predictions.Select(p => p.GetProperty("tagName").GetString())
                    .Order(StringComparer.Ordinal));
                var probabilities = predictions.Select(p => p.GetProperty("probability").GetDouble()).ToList();
                Assert.Equal(probabilities.OrderByDescending(p => p), probabilities);
                Assert.InRange(probabilities.Sum(), 0.99, 1.01);
                foreach (var p in predictions)
                {
                    var names = p.EnumerateObject().Select(f => f.Name).Order(StringComparer.Ordinal).ToList();
                    Assert.Equal(api == "v3.1" ? ["probability", "tagId", "tagName", "tagType"]
                        : ["probability", "tagId", "tagName"], names);
                    Assert.Equal(JsonValueKind.Number, p.GetProperty("probability").ValueKind);
                    var tagId = p.GetProperty("tagId").GetString()!;
                    Assert.True(Guid.TryParse(tagId, out _), tagId);
                    var tag = p.GetProperty("tagName").GetString()!;
                    Assert.Equal(tagIds.GetValueOrDefault(tag, tagId), tagId);
                    tagIds[tag] = tagId;
                    if (api == "v3.1") Assert.Equal("Regular", p.GetProperty("tagType").GetString());
                }
                if (predictions[0].GetProperty("tagName").GetString() == label) right++;
            }
            Assert.True(right >= 7, $"{right} of 9 right ({api} {project} {iteration})");
        }
        // 'latest' and the name published on the promoted version are one iteration; each label one tag id.
        Assert.Single(iterations);
        Assert.Equal(3, tagIds.Values.Distinct().Count());

        using var nostore = await ClassifyAsync("v3.1", "Prediction", Dataset, "latest", images[0].Content, false,
            "/nostore");
        Assert.Equal(HttpStatusCode.OK, nostore.StatusCode);
        Assert.NotNull(version);
    }

    [Fact]
    public async Task Errors_come_in_custom_visions_shape_with_its_codes()
    {
        var images = await ScoringTests.TrainedShapesAsync(pipeline);
        var image = images[0].Content;
        var projectId = await ProjectIdAsync();

        await ErrorAsync(HttpStatusCode.Unauthorized, "Unauthorized",
            ClassifyAsync("v3.0", "Prediction", Dataset, "latest", image, false, key: "wrong"));
        await ErrorAsync(HttpStatusCode.Unauthorized, "Unauthorized",
            ClassifyAsync("v3.1", "prediction", Dataset, "latest", image, true, key: null));
        await ErrorAsync(HttpStatusCode.NotFound, "NotFoundProject",
            ClassifyAsync("v3.0", "Prediction", Guid.NewGuid().ToString(), "latest", image, false));
        await ErrorAsync(HttpStatusCode.NotFound, "NotFoundProject",
            ClassifyAsync("v3.0", "Prediction", "no-such-dataset", "latest", image, false));
        await ErrorAsync(HttpStatusCode.NotFound, "NotFoundIteration",
            ClassifyAsync("v3.1", "Prediction", projectId.ToString(), "never-published", image, false));
        await ErrorAsync(HttpStatusCode.BadRequest, "BadRequestImageFormat",
            ClassifyAsync("v3.1", "Prediction", Dataset, "latest", Encoding.UTF8.GetBytes("not an image"), true));
        await ErrorAsync(HttpStatusCode.BadRequest, "BadRequestImageFormat",
            ClassifyAsync("v3.0", "Prediction", Dataset, "latest", image[..(image.Length / 3)], false));
        await ErrorAsync(HttpStatusCode.BadRequest, "BadRequestImageUrl",
            ClassifyUrlAsync("v3.0", Dataset, "{\"url\":\"http://example.com/rose.jpg\"}"));
        await ErrorAsync(HttpStatusCode.BadRequest, "BadRequestImageUrl",
            ClassifyUrlAsync("v3.0", Dataset, "{\"url\":\"https://10.1.2.3/rose.jpg\"}"));
        await ErrorAsync(HttpStatusCode.BadRequest, "BadRequestImageUrl", ClassifyUrlAsync("v3.1", Dataset, "{}"));
    }

    [Fact]
    public async Task The_url_routes_fetch_the_image_from_a_server()
    {
        var images = await ScoringTests.TrainedShapesAsync(pipeline);
        var (label, _, content) = images[1];
        var port = Azurite.FreePort();
        using var server = new HttpListener();
        server.Prefixes.Add($"http://127.0.0.1:{port}/");
        server.Start();
        var serving = Task.Run(async () =>
        {
            while (server.IsListening)
            {
                HttpListenerContext context;
                try { context = await server.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
                if (context.Request.Url!.AbsolutePath == "/shape.jpg")
                {
                    context.Response.ContentType = "image/jpeg";
                    await context.Response.OutputStream.WriteAsync(content);
                }
                else context.Response.StatusCode = 404;
                context.Response.Close();
            }
        });

        foreach (var (api, route) in new[] { ("v3.0", "/url"), ("v3.1", "/url/nostore") })
        {
            using var response = await ClassifyUrlAsync(api, Dataset,
                $"{{\"url\":\"http://127.0.0.1:{port}/shape.jpg\"}}", route);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            using var json = JsonDocument.Parse(body);
            Assert.Equal(label, json.RootElement.GetProperty("predictions")[0].GetProperty("tagName").GetString());
        }
        var missing = await ErrorAsync(HttpStatusCode.BadRequest, "BadRequestImageUrl",
            ClassifyUrlAsync("v3.0", Dataset, $"{{\"url\":\"http://127.0.0.1:{port}/gone.jpg\"}}"));
        Assert.Contains("404", missing);
        server.Stop();
        await serving;
    }

    private async Task<Guid> ProjectIdAsync()
    {
        using var json = JsonDocument.Parse(await pipeline.Http.GetStringAsync($"datasets/{Dataset}"));
        return Guid.Parse(json.RootElement.GetProperty("projectId").GetString()!);
    }

    private async Task<string> PublishLatestAsync()
    {
        using var models = JsonDocument.Parse(await pipeline.Http.GetStringAsync($"datasets/{Dataset}/models"));
        var version = models.RootElement.GetProperty("promoted").GetString()!;
        using var content = new StringContent($"{{\"name\":\"{PublishedName}\"}}", Encoding.UTF8, "application/json");
        using var response = await pipeline.Http.PostAsync($"datasets/{Dataset}/models/{version}/publish", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return version;
    }

    /// <summary>As the official client sends it:
    /// {Endpoint}/customvision/v3.x/Prediction/{projectId}/classify/...</summary>
    private Task<HttpResponseMessage> ClassifyAsync(string api, string prediction, string project, string iteration,
        byte[] image, bool multipart, string suffix = "", string? key = PipelineFixture.PredictionKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post,
            $"customvision/{api}/{prediction}/{project}/classify/iterations/{iteration}/image{suffix}");
        if (key is not null) request.Headers.Add("Prediction-Key", key);
        var bytes = new ByteArrayContent(image);
        if (multipart)
        {
            var form = new MultipartFormDataContent();
            form.Add(bytes, "imageData", "imageData");
            request.Content = form;
        }
        else
        {
            bytes.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            request.Content = bytes;
        }
        return pipeline.Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> ClassifyUrlAsync(string api, string project, string body, string route = "/url")
    {
        var request = new HttpRequestMessage(HttpMethod.Post,
            $"customvision/{api}/Prediction/{project}/classify/iterations/latest{route}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("prediction-key", PipelineFixture.PredictionKey);
        return pipeline.Http.SendAsync(request);
    }

    /// <summary>Checks CustomVisionError: exactly code and message, both strings; returns the message.</summary>
    private static async Task<string> ErrorAsync(HttpStatusCode status, string code, Task<HttpResponseMessage> call)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode} instead of {(int)status}: {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal(["code", "message"], json.RootElement.EnumerateObject().Select(p => p.Name)
            .Order(StringComparer.Ordinal));
        Assert.Equal(code, json.RootElement.GetProperty("code").GetString());
        var message = json.RootElement.GetProperty("message").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message;
    }
}
