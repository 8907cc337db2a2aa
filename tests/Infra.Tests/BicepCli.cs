using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Pipeline.Infra.Tests;

public sealed record BicepRun(int ExitCode, string Output, string Errors)
{
    private static readonly Regex Diagnostic = new(@"^.+\(\d+,\d+\) : (Warning|Error|Info) .+$",
        RegexOptions.Multiline);

    /// <summary>Every warning and error line bicep printed.</summary>
    public IReadOnlyList<string> Diagnostics =>
        Diagnostic.Matches(Output + "\n" + Errors)
            .Select(m => m.Value.Trim()).Where(d => !d.Contains(" : Info ")).ToList();
}

/// <summary>
/// The Bicep CLI from the Azure.Bicep.CommandLine.linux-x64 package that `dotnet test` restores. It compiles,
/// lints and evaluates (`snapshot`) templates with no network: infra/ uses no registry modules.
/// </summary>
public static class BicepCli
{
    private static readonly Lazy<string> Executable = new(Locate);

    public static BicepRun Run(params string[] args)
    {
        var start = new ProcessStartInfo(Executable.Value)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        { process.Kill(); throw new TimeoutException($"bicep {string.Join(' ', args)}"); }
        return new BicepRun(process.ExitCode, output.Result, errors.Result);
    }

    private static string Locate()
    {
        var path = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "BicepPath").Value;
        if (string.IsNullOrEmpty(path))
            throw new InvalidOperationException("BicepPath is empty: is Azure.Bicep.CommandLine.linux-x64 restored?");
        path = Path.GetFullPath(path.Replace('\\', '/'));
        if (!File.Exists(path)) throw new FileNotFoundException("The bicep executable is not where its package says.",
            path);
        if ((File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0) return path;

        // Some package extractions drop the mode bit: run a copy rather than touch the NuGet cache.
        var copy = Path.Combine(AppContext.BaseDirectory, "bicep-cli", "bicep");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        if (!File.Exists(copy)) File.Copy(path, copy);
        File.SetUnixFileMode(copy, File.GetUnixFileMode(copy) | UnixFileMode.UserExecute);
        return copy;
    }
}
