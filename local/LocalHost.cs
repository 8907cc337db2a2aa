using System.Diagnostics;
using Pipeline.Core;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;
using OpenTelemetry.Trace;
using Pipeline.Http;

namespace Pipeline.Local;

/// <summary>
/// The one-machine pipeline: polling listeners, the HTTP API on 127.0.0.1 and the trainer's job loop, on Azurite.
/// </summary>
public static class LocalHost
{
    public static WebApplication Build(
        string[] args, string storageConnection, IDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(
            new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageNames.Connection] = storageConnection,
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
        var rejected = new RejectedRequests();
        builder.Services.AddSingleton(rejected);
        // Requests Kestrel refuses before any middleware (a NUL in the path) get a problem body too.
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.ConfigureEndpointDefaults(listen => listen.Use(rejected.Use)));
        builder.Services.AddPipelineHttp();
        builder.Services.AddPipeline(builder.Configuration);
        builder.Services.AddPipelineTelemetry(builder.Configuration, "pipeline-local")
            .WithTracing(t => t.AddAspNetCoreInstrumentation());
        builder.Services.AddScoreLimits(builder.Configuration);
        // Custom Vision's API locally: Local__PredictionKey, none by default; loopback urls, so tests serve images.
        builder.Services.Configure<CustomVisionOptions>(o =>
        {
            o.PredictionKey = builder.Configuration["Local:PredictionKey"];
            o.AllowWithoutKey = true;
            o.AllowLoopbackUrls = true;
        });
        builder.Services.AddSingleton<TrainerProcess>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TrainerProcess>());
        // Stopped in reverse order: the listeners stop before the trainer, which stops before Azurite (Program.cs).
        builder.Services.AddSingleton<UploadSweep>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UploadSweep>());
        builder.Services.AddHostedService<SettleListener>();
        builder.Services.AddHostedService<PredictionSweep>();
        builder.Services.AddSingleton<IdleMemoryTrim>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IdleMemoryTrim>());

        var app = builder.Build();
        rejected.Listen(app.Services.GetRequiredService<DiagnosticListener>());
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRateLimiter();
        var trim = app.Services.GetRequiredService<IdleMemoryTrim>();
        app.Use(async (context, next) =>
        {
            try { await next(context); }
            finally { if (ScoreLimits.IsScoring(context.Request.Path)) trim.Scored(); }
        });
        app.UseApiKeyCheck();
        app.MapPipelineApi();
        // The studio at / (its API calls go to /api/...).
        app.MapGet("/", () => StudioFiles.Serve(null, "/")).ExcludeFromDescription();
        foreach (var file in StudioFiles.Names)
            app.MapGet("/" + file, () => StudioFiles.Serve(file, "/")).ExcludeFromDescription();
        return app;
    }

    /// <summary>Creates the containers and queues, then starts the triggers, the API and the trainer.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken ct)
    {
        await app.Services.GetRequiredService<PipelineStorage>().EnsureCreatedAsync(ct);
        await app.StartAsync(ct);
    }
}
