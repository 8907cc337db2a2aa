using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Serving;

/// <summary>
/// Fetches the image a Custom Vision url route names: https only, at most the image size limit, within a short
/// time-out, and never from a loopback, private, link-local or otherwise internal address (checked on the address
/// actually connected to, so neither a redirect nor a DNS answer that changes can reach one). The local host allows
/// loopback (over http too) so that tests can serve images.
/// </summary>
public sealed class ImageUrlFetch : IDisposable
{
    private readonly HttpClient client;
    private readonly IOptions<CustomVisionOptions> options;
    private readonly IOptions<PipelineOptions> limits;

    public ImageUrlFetch(IOptions<CustomVisionOptions> options, IOptions<PipelineOptions> limits)
    {
        this.options = options;
        this.limits = limits;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 3,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ConnectCallback = ConnectAsync,
        };
        client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The image's bytes, or why they could not be fetched.</summary>
    public async Task<(ImageUpload? Image, string? Problem)> FetchAsync(string? url, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            return (null, "Send {\"url\":\"https://...\"} with the absolute url of an image.");
        var loopbackHttp = uri.Scheme == Uri.UriSchemeHttp && options.Value.AllowLoopbackUrls && uri.IsLoopback;
        if (uri.Scheme != Uri.UriSchemeHttps && !loopbackHttp)
            return (null, $"Only https urls are fetched, not '{uri.Scheme}'.");
        var max = limits.Value.MaxImageBytes;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, options.Value.UrlTimeoutSeconds)));
        try
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
                return (null, $"Fetching the url answered {(int)response.StatusCode} {response.ReasonPhrase}.");
            if (response.Content.Headers.ContentLength > max) return (null, TooLarge(max));
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var memory = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk, timeout.Token)) > 0)
            {
                memory.Write(chunk, 0, read);
                if (memory.Length > max) return (null, TooLarge(max));
            }
            return (new ImageUpload(uri.Segments[^1], memory.ToArray()), null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, $"The url did not answer with the whole image within {options.Value.UrlTimeoutSeconds} s.");
        }
        catch (HttpRequestException e)
        {
            return (null, $"The url could not be fetched: {e.InnerException?.Message ?? e.Message}");
        }
    }

    private static string TooLarge(long max) => $"The image at the url is larger than {max / 1048576.0:0.#} MB.";

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, ct);
        var allowed = addresses.Where(a => IsPublic(a) || options.Value.AllowLoopbackUrls && IPAddress.IsLoopback(a))
            .ToList();
        if (allowed.Count == 0)
            throw new HttpRequestException($"'{context.DnsEndPoint.Host}' is not a public address; internal, " +
                "private and loopback addresses are not fetched.");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed.ToArray(), context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>False for loopback, private (RFC 1918, unique local), link-local (and so the cloud's metadata
    /// endpoints), carrier-grade NAT, unspecified, multicast and the Azure host's own address.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return false;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || address.Equals(IPAddress.IPv6None)) return false;
            var first = address.GetAddressBytes()[0];
            return (first & 0xFE) != 0xFC; // fc00::/7, unique local
        }
        var b = address.GetAddressBytes();
        return !(b[0] is 0 or 10 or 127 || b[0] >= 224
            || b[0] == 169 && b[1] == 254
            || b[0] == 172 && b[1] is >= 16 and <= 31
            || b[0] == 192 && b[1] == 168
            || b[0] == 100 && b[1] is >= 64 and <= 127
            || b[0] == 168 && b[1] == 63 && b[2] == 129 && b[3] == 16);
    }

    public void Dispose() => client.Dispose();
}
