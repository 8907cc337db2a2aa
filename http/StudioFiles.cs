using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Pipeline.Http;

/// <summary>
/// The studio's files (studio/ in the repository), embedded in this assembly so both hosts serve the same page: the
/// local host at <c>/</c>, the function app at <c>/api/studio/</c>. Nothing in them is a secret; the API calls carry
/// the key the user pastes.
/// </summary>
public static class StudioFiles
{
    public const string FunctionRoute = "studio/{*path}";
    public const string FunctionBase = "/api/studio/";
    private const string Prefix = "studio/";
    private static readonly Assembly Assembly = typeof(StudioFiles).Assembly;

    public static IReadOnlyList<string> Names { get; } = Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).Select(n => n[Prefix.Length..]).ToList();

    /// <summary>
    /// The file at <paramref name="path"/> (empty: index.html, whose base is set to <paramref name="basePath"/> so that
    /// its relative links resolve under either host's path), or a 404 problem.
    /// </summary>
    public static Results<FileStreamHttpResult, ContentHttpResult, ProblemHttpResult> Serve(string? path,
        string basePath)
    {
        path = string.IsNullOrEmpty(path) ? "index.html" : path;
        if (!Names.Contains(path))
            return PipelineApi.Problem(Core.Serving.ApiResult.Fail(404, "No such page",
                $"The studio has no file '{Core.Contract.Names.Shown(path)}'; open {basePath}."));
        var stream = Assembly.GetManifestResourceStream(Prefix + path)!;
        if (path == "index.html")
        {
            using var reader = new StreamReader(stream);
            var html = reader.ReadToEnd().Replace("<base href=\"/\">", $"<base href=\"{basePath}\">");
            return TypedResults.Content(html, "text/html; charset=utf-8");
        }
        return TypedResults.Stream(stream, ContentType(path));
    }

    private static string ContentType(string path) => Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };
}
