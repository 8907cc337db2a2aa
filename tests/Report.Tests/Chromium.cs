using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Pipeline.Report.Tests;

/// <summary>
/// Debian's headless Chromium, as a person's browser: installed with apt-get when missing and the tests run as root
/// (CI on a fresh machine), otherwise the caller skips with <see cref="MissingReason"/>. Flags keep it off the network,
/// which this machine does not have and on which Chromium would otherwise stall.
/// </summary>
public static partial class Chromium
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome"];
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    public static string? MissingReason { get; private set; }

    public static string? Find() => Candidates.FirstOrDefault(File.Exists);

    /// <summary>The browser's path, installing Debian's chromium once if it is missing and we may; null (see
    /// <see cref="MissingReason"/>) otherwise.</summary>
    public static async Task<string?> EnsureAsync(Action<string> log)
    {
        if (Find() is { } found) return found;
        await InstallGate.WaitAsync();
        try
        {
            if (Find() is { } again) return again;
            if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || !File.Exists("/usr/bin/apt-get"))
            {
                MissingReason = "Chromium is not installed (/usr/bin/chromium) and cannot be installed here (needs "
                    + "root and apt-get): apt-get install chromium";
                return null;
            }
            log("Installing Debian's chromium with apt-get (first use only)...");
            var update = await RunAsync("/usr/bin/apt-get", ["update"], TimeSpan.FromMinutes(5));
            var install = await RunAsync("/usr/bin/apt-get", ["install", "-y", "--no-install-recommends", "chromium"],
                TimeSpan.FromMinutes(15));
            if (Find() is { } installed) return installed;
            MissingReason = $"apt-get install chromium failed (exit {install.ExitCode}): {install.Error}{update.Error}";
            return null;
        }
        finally { InstallGate.Release(); }
    }

    /// <summary>What a page shows after it loaded: its DOM once scripts on the load event ran.</summary>
    public static async Task<string> DumpDomAsync(string chromium, string page) =>
        (await RunBrowserAsync(chromium,
            ["--virtual-time-budget=15000", "--dump-dom", new Uri(page).AbsoluteUri])).Output;

    public static async Task ScreenshotAsync(string chromium, string page, string png, int width = 1200,
        int height = 3000)
    {
        var result = await RunBrowserAsync(chromium,
            [$"--screenshot={png}", $"--window-size={width},{height}", "--hide-scrollbars",
            "--virtual-time-budget=15000", new Uri(page).AbsoluteUri]);
        if (!File.Exists(png))
            throw new InvalidOperationException("Chromium wrote no screenshot "
                + $"(exit {result.ExitCode}): {result.Error}");
    }

    /// <summary>
    /// Writes a copy of <paramref name="html"/> with a probe that, once the page loaded, records how many images there
    /// are, how many
    /// decoded, what was fetched from elsewhere and the confusion counts as shown; <see cref="ReadProbe"/> reads it
    /// back from the DOM.
    /// </summary>
    public static string WithProbe(string html, string folder)
    {
        const string probe = """
            <script>
            window.addEventListener('load', () => {
              const images = [...document.images];
              const cells = [...document.querySelectorAll('#confusion-counts td.count')]
                .map(td => parseInt(td.textContent, 10));
              const out = document.createElement('pre');
              out.id = 'probe';
              out.textContent = JSON.stringify({
                images: images.length,
                loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
                fetched: performance.getEntriesByType('resource').map(r => r.name),
                confusionCells: cells.length,
                confusionTotal: cells.reduce((a, b) => a + b, 0),
                text: document.body.innerText,
              });
              document.body.appendChild(out);
            });
            </script>
            """;
        var path = Path.Combine(folder, "probe.html");
        File.WriteAllText(path, html.Replace("</body>", probe + "</body>"));
        return path;
    }

    public static Probe ReadProbe(string dom)
    {
        var match = ProbePattern().Match(dom);
        if (!match.Success)
            throw new InvalidOperationException("The page's probe did not run; Chromium's DOM "
                + $"was: {dom[..Math.Min(dom.Length, 2000)]}");
        return JsonSerializer.Deserialize<Probe>(System.Net.WebUtility.HtmlDecode(match.Groups[1].Value),
            new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }

    public sealed record Probe(int Images, int Loaded, string[] Fetched, int ConfusionCells, int ConfusionTotal,
        string Text);

    [GeneratedRegex("<pre id=\"probe\">(.*?)</pre>", RegexOptions.Singleline)]
    private static partial Regex ProbePattern();

    private static async Task<(int ExitCode, string Output, string Error)> RunBrowserAsync(string chromium,
        IEnumerable<string> args)
    {
        var profile = Directory.CreateTempSubdirectory("chromium-profile-");
        try
        {
            string[] offline = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    $"--user-data-dir={profile.FullName}"];
            return await RunAsync(chromium, offline.Concat(args), TimeSpan.FromMinutes(2));
        }
        finally
        {
            try { profile.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string file,
        IEnumerable<string> args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            UseShellExecute = false
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cancel.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(file)} did not finish within {timeout}: {await error}");
        }
        return (process.ExitCode, await output, await error);
    }
}
