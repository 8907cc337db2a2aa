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
    public async Task A_multipart_part_over_the_image_limit_is_a_413_that_names_it()
    {
        // Read part by part as it arrives: the part is refused once it passes the limit.
        var body = Part("form-data; name=\"images\"; filename=\"small.jpg\"", GeneratedImages.Jpeg(0, new Random(3)))
            .Concat(Part("form-data; name=\"images\"; filename=\"big.jpg\"",
                new byte[PipelineFixture.MaxImageBytes + 1]))
            .Concat(Encoding.ASCII.GetBytes($"--{Boundary}--\r\n")).ToArray();
        var (status, problem) = await SendAsync($"multipart/form-data; boundary={Boundary}", body);
        Assert.Equal(413, status);
        Assert.Contains("big.jpg", problem);
    }

    [Fact]
    public async Task A_body_that_stalls_is_a_408()
    {
        // Headers and a first part, then nothing: Kestrel's minimum data rate ends the wait.
        var (status, problem) = await SendAsync("image/jpeg", new byte[100], declaredLength: 100_000);
        Assert.Equal(408, status);
        Assert.Contains("stopped arriving", problem);
    }

    [Fact]
    public async Task A_NUL_in_the_route_is_a_400_problem()
    {
        // Kestrel refuses it before any middleware runs; the host still answers with a problem.
        var api = pipeline.Http.BaseAddress!;
        var (status, problem) = await SendRawAsync($"POST {api.AbsolutePath}score/a%00b HTTP/1.1\r\n" +
            $"Host: {api.Authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", []);
        Assert.Equal(400, status);
        Assert.Contains("%00", problem);
    }

    [Theory]
    [InlineData("no Host header", 400, "Host")]
    [InlineData("a URL of 9,000 characters", 414, "URL")]
    [InlineData("40 KB of headers", 431, "headers")]
    [InlineData("HTTP/1.7", 505, "HTTP/1.1")]
    public async Task Requests_Kestrel_refuses_before_the_API_are_problems_too(string what, int expected,
        string detail)
    {
        var api = pipeline.Http.BaseAddress!;
        var path = $"{api.AbsolutePath}datasets";
        var head = what switch
        {
            "no Host header" => $"GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n",
            "a URL of 9,000 characters" => $"GET {path}/{new string('a', 9000)} HTTP/1.1\r\nHost: x\r\n\r\n",
            "40 KB of headers" => $"GET {path} HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', 40_000)}\r\n\r\n",
            _ => $"GET {path} HTTP/1.7\r\nHost: x\r\n\r\n",
        };
        var (status, problem) = await SendRawAsync(head, []);
        Assert.Equal(expected, status);
        Assert.Contains(detail, problem);
    }

    /// <summary>POSTs to the scoring route over a socket; returns the status and the problem's detail.</summary>
    private Task<(int Status, string Detail)> SendAsync(string contentType, byte[] body,
        long? declaredLength = null)
    {
        var api = pipeline.Http.BaseAddress!;
        var head = $"POST {api.AbsolutePath}score/no-such-model HTTP/1.1\r\nHost: {api.Authority}\r\nContent-Type: " +
            $"{contentType}\r\n" +
            $"Content-Length: {declaredLength ?? body.Length}\r\nConnection: close\r\n\r\n";
        return SendRawAsync(head, body);
    }

    /// <summary>Sends a request line and headers as given, then the body; returns the status and the problem's
    /// detail.</summary>
    private async Task<(int Status, string Detail)> SendRawAsync(string head, byte[] body)
    {
        var api = pipeline.Http.BaseAddress!;
        using var client = new TcpClient();
        await client.ConnectAsync(api.Host, api.Port);
        await using var stream = client.GetStream();
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
