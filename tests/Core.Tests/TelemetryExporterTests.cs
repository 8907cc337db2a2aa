using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Pipeline.Core;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Tests;

/// <summary>Spans go to the console only when OTEL_TRACES_EXPORTER asks for it: the local host is quiet by
/// default.</summary>
public sealed class TelemetryExporterTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("otlp", false)]
    [InlineData("console", true)]
    [InlineData("otlp, Console", true)]
    public void Spans_are_printed_only_when_the_console_exporter_is_asked_for(string? exporters, bool printed)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
            new Dictionary<string, string?> { [SettingNames.TracesExporter] = exporters }).Build();
        var services = new ServiceCollection();
        services.AddPipelineTelemetry(configuration, "console-test");
        using var provider = services.BuildServiceProvider();
        var tracing = provider.GetRequiredService<TracerProvider>();
        var name = $"probe-{Guid.NewGuid():N}";
        var output = new StringWriter();
        var console = Console.Out;
        Console.SetOut(output);
        try
        {
            using (Telemetry.Source.StartActivity(name)) { }
            tracing.ForceFlush();
        }
        finally { Console.SetOut(console); }
        Assert.Equal(printed, output.ToString().Contains(name, StringComparison.Ordinal));
    }
}
