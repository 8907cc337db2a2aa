using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace Pipeline.Local;

/// <summary>
/// Kestrel refuses some requests before any middleware sees them (a NUL, <c>%00</c>, in the path, a control character
/// in a header, a request line or headers too long) and answers with a bare status and no body. This gives those
/// answers a problem body like every other error: Kestrel reports each refusal with its reason (its BadRequest
/// diagnostic event), and on that connection the bare answer it then writes is replaced by the same status with an
/// application/problem+json body. Other connections' bytes pass through unchanged.
/// </summary>
public sealed class RejectedRequests : IObserver<KeyValuePair<string, object?>>, IDisposable
{
    private const string BadRequestEvent = "Microsoft.AspNetCore.Server.Kestrel.BadRequest";
    private readonly ConcurrentDictionary<string, string> reasons = new();
    private IDisposable? subscription;

    public void Listen(DiagnosticListener listener) =>
        subscription = listener.Subscribe(this, name => name == BadRequestEvent);

    /// <summary>The connection middleware (ListenOptions.Use): the connection's output through a rewriting
    /// writer.</summary>
    public ConnectionDelegate Use(ConnectionDelegate next) => async connection =>
    {
        var transport = connection.Transport;
        var id = connection.ConnectionId;
        connection.Transport = new DuplexPipe(transport.Input,
            new ProblemWriter(transport.Output, () => reasons.TryRemove(id, out var why) ? why : null));
        try { await next(connection); }
        finally
        {
            connection.Transport = transport;
            reasons.TryRemove(id, out _);
        }
    };

    public void OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Value is not IFeatureCollection features) return;
        var error = features.Get<IBadRequestExceptionFeature>()?.Error;
        if (features.Get<IHttpConnectionFeature>()?.ConnectionId is { } id)
            reasons[id] = error?.Message is { Length: > 0 } message ? message : "The request is malformed.";
    }

    public void OnError(Exception error) { }
    public void OnCompleted() { }
    public void Dispose() => subscription?.Dispose();

    /// <summary>A problem body for a bare status Kestrel wrote: what was wrong (its reason) and what to do.</summary>
    internal static byte[] Problem(int status, string reason)
    {
        var (title, todo) = status switch
        {
            408 => ("Request headers too slow", "Send the request line and headers at once."),
            411 => ("Length required", "Send a Content-Length or a chunked body."),
            414 => ("Request line too long", "Shorten the URL."),
            431 => ("Request headers too large", "Send fewer or shorter headers."),
            505 => ("HTTP version not supported", "Send HTTP/1.1."),
            _ => ("Malformed request", "Send the path percent-encoded without NUL (%00) or other control " +
                "characters, a Host header, headers as plain ASCII 'Name: value' lines, and a body framed by " +
                "Content-Length or chunked."),
        };
        return JsonSerializer.SerializeToUtf8Bytes(new ProblemDetails
        {
            Type = $"https://tools.ietf.org/html/rfc9110#section-15.{(status >= 500 ? 6 : 5)}",
            Title = title,
            Status = status,
            Detail = $"{reason.Replace(": ''", "").TrimEnd('.')}. The server refused the request before reading it. " +
                todo,
        });
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>
    /// Holds each flush's bytes; when Kestrel has just refused a request on this connection and the flush is its bare
    /// answer (a 4xx or 5xx with Content-Length: 0), writes the answer with a problem body instead.
    /// </summary>
    private sealed class ProblemWriter(PipeWriter inner, Func<string?> refusal) : PipeWriter
    {
        private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();
        private readonly ArrayBufferWriter<byte> pending = new();

        public override void Advance(int bytes) => pending.Advance(bytes);
        public override Memory<byte> GetMemory(int sizeHint = 0) => pending.GetMemory(sizeHint);
        public override Span<byte> GetSpan(int sizeHint = 0) => pending.GetSpan(sizeHint);
        public override void CancelPendingFlush() => inner.CancelPendingFlush();
        // System.Text.Json asks how much it wrote since the last flush, to flush large answers as it goes.
        public override bool CanGetUnflushedBytes => true;
        public override long UnflushedBytes => pending.WrittenCount;

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Pass();
            return inner.FlushAsync(cancellationToken);
        }

        public override void Complete(Exception? exception = null)
        {
            Pass();
            inner.Complete(exception);
        }

        private void Pass()
        {
            if (pending.WrittenCount == 0) return;
            var bytes = pending.WrittenSpan;
            if (refusal() is { } reason && Rewrite(bytes, reason) is { } answer) inner.Write(answer);
            else inner.Write(bytes);
            pending.ResetWrittenCount();
        }

        private static byte[]? Rewrite(ReadOnlySpan<byte> bytes, string reason)
        {
            var end = bytes.IndexOf(HeadEnd);
            if (end < 0 || end + HeadEnd.Length != bytes.Length) return null;
            var lines = Encoding.ASCII.GetString(bytes[..end]).Split("\r\n");
            var status = lines[0].Split(' ', 3);
            if (status.Length < 2 || !int.TryParse(status[1], out var code) || code < 400
                || !lines.Contains("Content-Length: 0", StringComparer.OrdinalIgnoreCase)) return null;
            var body = Problem(code, reason);
            var head = new StringBuilder(lines[0]).Append("\r\n");
            foreach (var line in lines.Skip(1).Where(l => !l.StartsWith("Content-Length:",
                StringComparison.OrdinalIgnoreCase)))
                head.Append(line).Append("\r\n");
            head.Append("Content-Type: application/problem+json\r\n")
                .Append($"Content-Length: {body.Length}\r\n\r\n");
            return [.. Encoding.ASCII.GetBytes(head.ToString()), .. body];
        }
    }
}
