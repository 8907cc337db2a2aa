using System.Net.Http.Json;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Storage;
using Pipeline.Local;
using Pipeline.Tests.Otlp;
using Xunit;

namespace Pipeline.Tests;

/// <summary>
/// One Azurite on free ports and one local host (triggers, HTTP API, trainer child process) for every storage test:
/// the same parts a user runs with <c>dotnet run --project local</c>, with short quiet periods and fast training.
/// </summary>
public sealed class PipelineFixture : IAsyncLifetime
{
    public const int QuietSeconds = 6;
    /// <summary>The local host's Custom Vision prediction key (Local__PredictionKey) in these tests.</summary>
    public const string PredictionKey = "test-prediction-key";
    /// <summary>The default limit: some real photos (hymenoptera has one of 2 MB) are large.</summary>
    public static readonly long MaxImageBytes = Pipeline.Core.Images.ImageLimits.Default.MaxBytes;

    private string dataFolder = "";
    public Azurite Azurite { get; private set; } = null!;
    public WebApplication Host { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public PipelineStorage Storage => Host.Services.GetRequiredService<PipelineStorage>();
    public T Service<T>() where T : notnull => Host.Services.GetRequiredService<T>();
    public TrainerProcess Trainer => Host.Services.GetRequiredService<TrainerProcess>();
    /// <summary>Where the host and the trainer send their telemetry (OTLP), as a user's collector would receive
    /// it.</summary>
    public OtlpReceiver Otlp { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var root = RepoRoot.Find();
        dataFolder = Path.Combine(root, ".azurite", $"test-{Guid.NewGuid():N}");
        Azurite = await Azurite.StartOnFreePortsAsync(root, dataFolder, Console.WriteLine, CancellationToken.None);
        var port = Azurite.FreePort();
        Otlp = new OtlpReceiver();
        Host = LocalHost.Build([], Azurite.ConnectionString, new Dictionary<string, string?>
        {
            [SettingNames.OtlpEndpoint] = Otlp.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "1000",
            ["Local:Port"] = $"{port}",
            ["Pipeline:QuietPeriodSeconds"] = $"{QuietSeconds}",
            ["Pipeline:FastTraining"] = "true",
            ["Pipeline:ModelRefreshSeconds"] = "1",
            ["Pipeline:JobVisibilitySeconds"] = "10",
            ["Local:PredictionKey"] = PredictionKey,
        });
        await LocalHost.StartAsync(Host, CancellationToken.None);
        Http = new HttpClient
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/api/"),
            Timeout = TimeSpan.FromMinutes(2)
        };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Host.StopAsync();
        await Host.DisposeAsync();
        await Azurite.DisposeAsync();
        await Otlp.DisposeAsync();
        try { Directory.Delete(dataFolder, recursive: true); } catch (IOException) { }
    }

    public BlobClient Upload(string name) => Storage.Uploads.GetBlobClient(name);

    public async Task UploadAsync(string name, byte[] content)
        => await Upload(name).UploadAsync(new BinaryData(content), overwrite: true);

    public async Task<DatasetStatus?> StatusAsync(string dataset)
    {
        using var response = await Http.GetAsync($"datasets/{dataset}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<DatasetStatus>(Json.Options);
    }

    /// <summary>Uploads a dataset, waits for its split, asks for a fast training run now and returns the job's
    /// id.</summary>
    public async Task<string> UploadAndTrainAsync(string dataset,
        IReadOnlyList<(string Label, string File, byte[] Content)> images)
    {
        foreach (var (label, file, content) in images) await UploadAsync($"{dataset}/{label}/{file}", content);
        await WaitForAsync(dataset, s => s.TrainImages + s.TestImages == images.Count, "the split", 120);

        // Ask now rather than wait for the quiet period; the settle check that follows finds this job and adds none.
        using var response = await Http.PostAsync($"datasets/{dataset}/train",
            JsonContent.Create(TrainingOptions.Fast, options: Json.Options));
        Xunit.Assert.True(response.StatusCode is System.Net.HttpStatusCode.Accepted or System.Net.HttpStatusCode.OK,
            await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<Pipeline.Core.Serving.TrainResponse>(Json.Options))!
            .Job!.JobId;
    }

    /// <summary>Polls until <paramref name="done"/> holds; fails with <paramref name="what"/> and the last status after
    /// <paramref name="seconds"/>.</summary>
    public async Task<DatasetStatus> WaitForAsync(string dataset, Func<DatasetStatus, bool> done, string what,
        int seconds = 300)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        DatasetStatus? status = null;
        while (DateTime.UtcNow < deadline)
        {
            status = await StatusAsync(dataset);
            if (status is not null && done(status)) return status;
            await Task.Delay(500);
        }
        throw new TimeoutException($"Waited {seconds} s for {what}; last "
            + $"status: {System.Text.Json.JsonSerializer.Serialize(status, Json.Options)}");
    }
}

[CollectionDefinition(Name)]
public sealed class PipelineCollection : ICollectionFixture<PipelineFixture>
{
    public const string Name = "pipeline";
}
