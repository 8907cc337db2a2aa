using System.Collections.Concurrent;
using System.Net;
using Pipeline.Local;

namespace Pipeline.Tests.Otlp;

/// <summary>A span as an OTLP exporter sent it: ids as hex, the sender's service name, attributes as
/// text.</summary>
public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// An OTLP/HTTP endpoint on a free port (<c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>) that keeps the spans it
/// receives: how the test sees what the trainer, a child process, reports. Metrics and logs are accepted and dropped.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly Task serving;
    private readonly ConcurrentQueue<ReceivedSpan> spans = new();

    public OtlpReceiver()
    {
        var port = Azurite.FreePort();
        Endpoint = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add(Endpoint + "/");
        listener.Start();
        serving = ServeAsync();
    }

    public string Endpoint { get; }

    public IReadOnlyList<ReceivedSpan> Spans => spans.ToList();

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            try
            {
                if (context.Request.Url?.AbsolutePath == "/v1/traces") Keep(context.Request.InputStream);
                else await context.Request.InputStream.CopyToAsync(Stream.Null);
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
            }
            catch (Google.Protobuf.InvalidProtocolBufferException) { context.Response.StatusCode = 400; }
            context.Response.Close();
        }
    }

    private void Keep(Stream body)
    {
        var request = ExportTraceServiceRequest.Parser.ParseFrom(body);
        foreach (var resource in request.ResourceSpans)
        {
            var service = resource.Resource?.Attributes.FirstOrDefault(a => a.Key == "service.name")?.Value
                ?.StringValue ?? "";
            foreach (var span in resource.ScopeSpans.SelectMany(s => s.Spans))
                spans.Enqueue(new ReceivedSpan(service, Convert.ToHexStringLower(span.TraceId.Span),
                    Convert.ToHexStringLower(span.SpanId.Span), Convert.ToHexStringLower(span.ParentSpanId.Span),
                    span.Name, span.Attributes.ToDictionary(a => a.Key, a => Text(a.Value))));
        }
    }

    private static string Text(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => $"{value.IntValue}",
        AnyValue.ValueOneofCase.DoubleValue => $"{value.DoubleValue}",
        _ => "",
    };

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        await serving;
    }
}
