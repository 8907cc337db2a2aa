using System.Net.Sockets;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;

namespace Pipeline.Tests;

/// <summary>
/// HTTP requests to Azurite written byte for byte over a socket, so that a path reaches storage exactly as a hostile
/// client sends it ('..' segments, %2E%2E, control characters): HttpClient and the SDK would normalize or refuse it.
/// </summary>
public static class RawBlobRequest
{
    /// <summary>
    /// PUT a block blob at <paramref name="rawName"/> (sent as given, not escaped) in <paramref name="container"/>.
    /// </summary>
    public static Task<int> PutAsync(BlobContainerClient container, string rawName, byte[] content) =>
        SendAsync(container, "PUT", rawName, content, "x-ms-blob-type: BlockBlob\r\n");

    public static Task<int> DeleteAsync(BlobContainerClient container, string rawName) => SendAsync(container,
        "DELETE", rawName, [], "");

    private static async Task<int> SendAsync(BlobContainerClient container, string method, string rawName,
        byte[] content, string headers)
    {
        var sas = container.GenerateSasUri(BlobContainerSasPermissions.All, DateTimeOffset.UtcNow.AddHours(1));
        var target = $"{sas.AbsolutePath}/{rawName}{sas.Query}";
        using var client = new TcpClient();
        await client.ConnectAsync(sas.Host, sas.Port);
        await using var stream = client.GetStream();
        var head = $"{method} {target} HTTP/1.1\r\nHost: {sas.Host}:{sas.Port}\r\nx-ms-version: " +
            $"2021-08-06\r\n{headers}" +
            $"Content-Length: {content.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.Latin1.GetBytes(head));
        await stream.WriteAsync(content);
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var status = await reader.ReadLineAsync() ?? "";
        return int.Parse(status.Split(' ')[1]);
    }
}
