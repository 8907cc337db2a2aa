using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Pipeline.Tests;

/// <summary>
/// Requests a hostile or broken client sends, written byte for byte: each is a 4xx problem that says what to fix.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class MalformedRequestTests(PipelineFixture pipeline)
{
    private const string Boundary = "xyzzy";

    private static byte[] Part(string disposition, byte[] content) => [.. Encoding.ASCII.GetBytes(
        $"--{Boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: image/jpeg\r\n\r\n"), .. content,
            .. "\r\n"u8];

    [Fact]
    public async Task A_multipart_body_cut_short_before_its_closing_boundary_is_a_400()
    {
        var body = Part("form-data; name=\"images\"; filename=\"a.jpg\"", GeneratedImages.Jpeg(0, new Random(1)));
        var (status, problem) = await SendAsync($"multipart/form-data; boundary={Boundary}", body);
        Assert.Equal(400, status);
        Assert.Contains("closing boundary", problem);
    }

    [Fact]
    public async Task Multipart_without_a_boundary_is_a_400()
    {
        var (status, problem) = await SendAsync("multipart/form-data", "--x\r\n\r\n--x--\r\n"u8.ToArray());
        Assert.Equal(400, status);
        Assert.Contains("boundary", problem);
    }

    [Fact]
    public async Task A_file_name_with_quotes_and_path_characters_is_a_400_not_a_413()
    {
        var body = Part("form-data; name=\"images\"; filename=\"a\"b/../\\c.jpg", GeneratedImages.Jpeg(0,
            new Random(2)))
            .Concat(Encoding.ASCII.GetBytes($"--{Boundary}--\r\n")).ToArray();
        var (status, problem) = await SendAsync($"multipart/form-data; boundary={Boundary}", body);
        Assert.InRange(status, 400,
            404); // refused as malformed, or read and answered (no model: 404); never 413 or 500
        Assert.NotEqual("", problem);
    }

    [Fact]
    public async Task A_multipart_body_over_the_servers_limit_is_a_413()
    {
        // Kestrel takes at most 30 MB per request by default.
        var body = Part("form-data; name=\"images\"; filename=\"big.jpg\"", new byte[31 << 20]);
        var (status, problem) = await SendAsync($"multipart/form-data; boundary={Boundary}", body);
        Assert.Equal(413, status);
        Assert.Contains("larger", problem);
    }

    [Fact]
    public async Task A_body_that_stalls_is_a_408()
    {
        // Headers and a first part, then nothing: Kestrel's minimum data rate ends the wait.
        var (status, problem) = await SendAsync("image/jpeg", new byte[100], declaredLength: 100_000);
        Assert.Equal(408, status);
        Assert.Contains("stopped arriving", problem);
    }

    /// <summary>POSTs to the scoring route over a socket; returns the status and the problem's detail.</summary>
    private async Task<(int Status, string Detail)> SendAsync(string contentType, byte[] body,
        long? declaredLength = null)
    {
        var api = pipeline.Http.BaseAddress!;
        using var client = new TcpClient();
        await client.ConnectAsync(api.Host, api.Port);
        await using var stream = client.GetStream();
        var head = $"POST {api.AbsolutePath}score/no-such-model HTTP/1.1\r\nHost: {api.Authority}\r\nContent-Type: " +
            $"{contentType}\r\n" +
            $"Content-Length: {declaredLength ?? body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        try { await stream.WriteAsync(body); }
        catch (IOException) { } // the server may answer and close before taking all of a body it refuses
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var status = int.Parse(response.Split(' ', 3)[1]);
        var json = response.IndexOf('{') is var start and >= 0 ? response[start..response.LastIndexOf('}')] + "}" : "";
        var detail = json == "" ? "" : JsonDocument.Parse(json).RootElement.TryGetProperty("detail",
            out var d) ? d.GetString() ?? "" : "";
        Assert.True(json != "", $"no problem body: {response}");
        return (status, detail);
    }
}
