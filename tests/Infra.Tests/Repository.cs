// The Bicep CLI package these tests run is the linux-x64 build; CI and the developers' machines are Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Pipeline.Infra.Tests;

/// <summary>Files of the checkout the tests run in, found from the test binaries upwards.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative)
        => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>A markdown file's text from <paramref name="heading"/> up to the next heading of the same
    /// level.</summary>
    public static string Section(string relative, string heading)
    {
        var text = Read(relative);
        var start = text.IndexOf($"\n{heading}\n", StringComparison.Ordinal);
        if (start < 0) throw new InvalidOperationException($"{relative} has no '{heading}' section.");
        var next = text.IndexOf($"\n{heading.Split(' ')[0]} ", start + heading.Length + 2, StringComparison.Ordinal);
        return next < 0 ? text[start..] : text[start..next];
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Pipeline.sln above {AppContext.BaseDirectory}.");
    }
}
