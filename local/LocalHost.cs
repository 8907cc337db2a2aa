using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Host;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;
using Pipeline.Functions.Http;

namespace Pipeline.Local;

/// <summary>The one-machine pipeline: polling triggers, the HTTP API on 127.0.0.1 and the trainer's job loop, on Azurite.</summary>
public static class LocalHost
{
    public static WebApplication Build(string[] args, string storageConnection, IDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageNames.Connection] = storageConnection,
            ["AzureWebJobsStorage"] = storageConnection, // the WebJobs SDK keeps its blob receipts and locks there
        });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);

        // Expected 404s (no latest.json yet, no rejection to clear) are not warnings.
        builder.Logging.AddFilter("Azure.Core", LogLevel.Error);
        builder.Logging.AddSimpleConsole(o => o.TimestampFormat = "HH:mm:ss ");
        builder.Services.Configure<LocalOptions>(builder.Configuration.GetSection("Local"));
        // Stopping ends within 15 s: the trainer gets LocalOptions.TrainerStopSeconds of it to hand its job back.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(12));
        var port = builder.Configuration.GetValue("Local:Port", 7071);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddProblemDetails();
        builder.Services.AddPipeline(builder.Configuration);
        builder.Services.AddSingleton<TrainerProcess>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TrainerProcess>());
        builder.Services.AddSingleton<UploadSweep>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UploadSweep>());
        builder.Services.AddSingleton<ITypeLocator>(new TriggerTypes());
        builder.Host.ConfigureWebJobs(webJobs =>
        {
            webJobs.AddAzureStorageCoreServices();
            webJobs.AddAzureStorageBlobs();
            webJobs.AddAzureStorageQueues(queues =>
            {
                // Idle queues are polled at most every 2 s, not the default minute: settle checks come due on time.
                queues.MaxPollingInterval = TimeSpan.FromSeconds(2);
                queues.VisibilityTimeout = TimeSpan.FromSeconds(5);
            });
        });

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapPipelineApi();
        return app;
    }

    /// <summary>Creates the containers and queues, then starts the triggers, the API and the trainer.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken ct)
    {
        await app.Services.GetRequiredService<PipelineStorage>().EnsureCreatedAsync(ct);
        await app.StartAsync(ct);
    }
}

/// <summary>Only <see cref="LocalTriggers"/> holds triggers; the SDK need not scan every loaded assembly for them.</summary>
internal sealed class TriggerTypes : ITypeLocator
{
    public IReadOnlyList<Type> GetTypes() => [typeof(LocalTriggers)];
}
