using System.Diagnostics;
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Pipeline.Core.Contract;

namespace Pipeline.Core;

/// <summary>
/// OpenTelemetry for every host: the pipeline's spans and metrics (<see cref="Telemetry"/>), outgoing HTTP and logs.
/// Exported to Application Insights when <see cref="SettingNames.ApplicationInsightsConnectionString"/> is set (with
/// the managed identity), else to <see cref="SettingNames.OtlpEndpoint"/> when set, and spans to the console too when
/// <see cref="SettingNames.TracesExporter"/> says <c>console</c> (off by default).
/// </summary>
public static class PipelineTelemetry
{
    public static OpenTelemetryBuilder AddPipelineTelemetry(this IServiceCollection services,
        IConfiguration configuration, string serviceName)
    {
        var builder = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(t => t.AddSource(Telemetry.Name).AddHttpClientInstrumentation())
            .WithMetrics(m => m.AddMeter(Telemetry.Name).AddHttpClientInstrumentation())
            .WithLogging();
        if (configuration[SettingNames.ApplicationInsightsConnectionString] is { Length: > 0 } connection)
            builder.UseAzureMonitorExporter(o =>
            {
                o.ConnectionString = connection;
                o.Credential = Credential(configuration[SettingNames.AzureClientId]);
                // A dataset run is a handful of traces: keep each whole.
                o.TracesPerSecond = null;
                o.SamplingRatio = 1;
            });
        else
        {
            // Locally the listeners poll storage every second or two: those calls are no one's span, and dropped.
            builder.WithTracing(t => t.SetSampler(new PollsDropped()));
            if (configuration[SettingNames.OtlpEndpoint] is { Length: > 0 }) builder.UseOtlpExporter();
            // Off unless asked for: every span printed buries the local host's log.
            if (ConsoleWanted(configuration[SettingNames.TracesExporter]))
                builder.WithTracing(t => t.AddConsoleExporter());
        }
        return builder;
    }

    /// <summary>Whether <see cref="SettingNames.TracesExporter"/> names <c>console</c> (a list, as the OpenTelemetry
    /// spec has it).</summary>
    private static bool ConsoleWanted(string? exporters) => (exporters ?? "")
        .Split(',', StringSplitOptions.TrimEntries).Contains("console", StringComparer.OrdinalIgnoreCase);

    /// <summary>The user-assigned identity whose client id the deployment sets, else whatever credential is
    /// found.</summary>
    private static TokenCredential Credential(string? clientId) => string.IsNullOrWhiteSpace(clientId)
        ? new DefaultAzureCredential()
        : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));

    /// <summary>Outgoing calls that start a trace (polling) are dropped; everything else is kept.</summary>
    private sealed class PollsDropped : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters parameters) =>
            parameters.ParentContext.TraceId == default && parameters.Kind == ActivityKind.Client
                ? new SamplingResult(SamplingDecision.Drop)
                : new SamplingResult(SamplingDecision.RecordAndSample);
    }
}
