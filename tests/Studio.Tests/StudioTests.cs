using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Local;
using Pipeline.Tests;
using Xunit;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Pipeline.Studio.Tests;

/// <summary>
/// The studio in Debian's Chromium (driven by Playwright, which downloads no browser) against the local host as a user
/// runs it, on a real Azurite with the real trainer: the key prompt and a wrong key's 401, a new dataset, a folder of
/// three labels with a corrupt file (its reason shown), fast training watched to success, the report, a generated
/// image scored, a wrongly labelled image moved; the models: a test image filed under the wrong label shown among its
/// label's most confident mistakes and moved from there, a version published under a name and unpublished; nothing
/// fetched from outside the app; no serious axe-core violation.
/// Screenshots of each step go to a temporary folder; with UPDATE_SCREENSHOTS=1, to docs/studio/ (the README's).
/// </summary>
public sealed class StudioTests(ITestOutputHelper output)
{
    private const string Key = "studio-test-key";
    private const string Dataset = "shapes-studio";
    private const int PerLabel = 14;
    private static readonly string Root = RepoRoot.Find();
    // A test run leaves the checked-in screenshots alone unless asked to write them again.
    private static readonly string Shots = Environment.GetEnvironmentVariable("UPDATE_SCREENSHOTS") == "1"
        ? Path.Combine(Root, "docs", "studio")
        : Directory.CreateTempSubdirectory("studio-shots-").FullName;
    private static readonly string[] BrowserPaths = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

    [SkippableFact]
    public async Task A_user_builds_trains_tries_and_fixes_a_dataset_in_the_studio()
    {
        var chromium = BrowserPaths.FirstOrDefault(File.Exists);
        Skip.If(chromium is null, "Debian's chromium is not installed (/usr/bin/chromium): apt-get install chromium " +
            "(.ci/run installs it when missing).");
        var axe = Path.Combine(Root, "tests", "Studio.Tests", "node_modules", "axe-core", "axe.min.js");
        Assert.True(File.Exists(axe), $"axe-core is missing at {axe}: run npm ci in tests/Studio.Tests.");
        Directory.CreateDirectory(Shots);
        var folder = Directory.CreateTempSubdirectory("studio-drop-");
        var (wrongHash, testSquareHash, tryImage) = WriteDataset(folder.FullName);

        await using var host = await LocalHostProcess.StartAsync(new Dictionary<string, string>
        {
            ["Local__ApiKey"] = Key,
            ["Pipeline__QuietPeriodSeconds"] = "600", // trained by the Train button, not by the quiet period
            ["Pipeline__FastTraining"] = "true",
        });
        host.Http.DefaultRequestHeaders.Add("x-functions-key", Key);
        var origin = host.Http.BaseAddress!.GetLeftPart(UriPartial.Authority);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"],
        });
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        // Assertions wait as long as actions: on a loaded machine a first score (the model loading) outlasts 5 s.
        SetDefaultExpectTimeout(30_000);
        var requests = new List<string>();
        context.Request += (_, request) => { lock (requests) requests.Add(request.Url); };
        page.Console += (_, message) => output.WriteLine($"console {message.Type}: {message.Text}");

        // The key prompt, a wrong key refused with the problem shown, then the right key.
        await page.GotoAsync(origin + "/");
        await Expect(page.Locator("#key-dialog")).ToBeVisibleAsync();
        await Expect(page.Locator("#key-why")).ToContainTextAsync("Function key needed");
        await Shot(page, "01-key-prompt");
        await page.Locator("#key-input").FillAsync("not-the-key");
        await page.Locator("#key-save").ClickAsync();
        await Expect(page.Locator("#datasets-problem")).ToContainTextAsync("Wrong function key");
        await page.Locator("#key-button").ClickAsync();
        await page.Locator("#key-input").FillAsync(Key);
        await page.Locator("#key-save").ClickAsync();
        await Expect(page.Locator("#datasets")).ToContainTextAsync("No dataset yet");
        await Expect(page.Locator("#datasets-problem")).ToBeEmptyAsync();

        // A new dataset, and a folder of label folders with a corrupt file.
        await page.Locator("#new-dataset-name").FillAsync(Dataset);
        await page.Locator("#new-dataset button[type=submit]").ClickAsync();
        await Expect(page.Locator("#dataset-title")).ToHaveTextAsync(Dataset);
        var shapes = Path.Combine(folder.FullName, "shapes");
        await page.Locator("#drop-dataset input[type=file]").SetInputFilesAsync(shapes);
        await Expect(page.Locator("#upload-progress-text")).ToContainTextAsync("Done:", new() { Timeout = 120_000 });
        await Expect(page.Locator("#refused")).ToContainTextAsync("broken.jpg refused:");
        await Expect(page.Locator("#labels")).ToContainTextAsync("circles");
        var status = (await host.StatusAsync(Dataset))!;
        Assert.Equal(3 * PerLabel + 2, status.TrainImages + status.TestImages);
        Assert.Equal(["circles", "squares", "stripes"], status.Labels.Keys.Order());
        await Shot(page, "02-images-uploaded");

        // A file dropped onto one label (a drop of files, not folders): it goes under that label.
        var stripes = status.Labels["stripes"];
        await DropFileAsync(page, "details.label[data-label=stripes]", "extra-stripe.jpg",
            GeneratedImages.Jpeg(2, new Random(99)));
        var added = $"({Regex.Escape(Counts(stripes, "train", +1))}|{Regex.Escape(Counts(stripes, "test", +1))})$";
        await Expect(page.Locator("details.label[data-label=stripes] .counts"))
            .ToHaveTextAsync(new Regex(added), new() { Timeout = 60_000 });

        // Fast training, watched live until it succeeds.
        await page.Locator("#tab-train").ClickAsync();
        await Expect(page.Locator("#train-form details.advanced input, #train-form details.advanced select"))
            .ToHaveCountAsync(TrainingOptions.All.Count);
        await page.Locator("#train-button").ClickAsync();
        var sawProgress = false;
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (DateTime.UtcNow < deadline)
        {
            var text = await page.Locator("#train-progress").InnerTextAsync();
            if (!sawProgress && text.Contains("running") && text.Contains("Stage:"))
            {
                sawProgress = true;
                await Shot(page, "03-training-live");
            }
            if (text.Contains("succeeded") || text.Contains("Failed")) break;
            await Task.Delay(250);
        }
        await Expect(page.Locator("#train-state")).ToHaveTextAsync("succeeded");
        Assert.True(sawProgress, "The running job's stage was shown while it trained.");
        await Expect(page.Locator("#train-result")).ToContainTextAsync("promoted");
        await Shot(page, "04-training-succeeded");

        // The models: the promoted version, its confusion matrix and its report.
        await page.Locator("#tab-models").ClickAsync();
        await Expect(page.Locator("#versions")).ToContainTextAsync("promoted");
        await Expect(page.Locator("#confusion")).ToBeVisibleAsync();
        await Expect(page.FrameLocator("#report-frame").Locator("body")).ToContainTextAsync("circles",
            new() { Timeout = 60_000 });
        await Shot(page, "05-models-and-report");

        // The square in circles' test split is one of circles' mistakes, predicted squares; moved from the list with
        // the keyboard, it leaves it and the label counts follow.
        var labelsBefore = (await host.StatusAsync(Dataset))!.Labels;
        var mistake = page.Locator($"#mistakes li.mistake[data-image^='{Dataset}/circles/{testSquareHash[..32]}']");
        await Expect(mistake).ToContainTextAsync("predicted squares");
        await Expect(mistake.Locator("select")).ToHaveValueAsync("squares");
        await page.WaitForFunctionAsync("""
            () => [...document.querySelectorAll('#mistakes img')].every(i => i.complete && i.naturalWidth > 0)
            """);
        await page.Locator("#mistakes").ScreenshotAsync(new() { Path = Path.Combine(Shots, "05b-mistakes.png") });
        await mistake.Locator("button").PressAsync("Enter");
        await Expect(mistake).ToHaveCountAsync(0);
        await Expect(page.Locator("#mistakes .mistakes-label[data-label=squares] .counts"))
            .ToHaveTextAsync(" " + Counts(labelsBefore["squares"], "test", +1));
        await Expect(page.Locator("#mistakes .mistakes-label[data-label=circles] .counts"))
            .ToHaveTextAsync(" " + Counts(labelsBefore["circles"], "test", -1));
        Assert.Equal(labelsBefore["squares"].Test + 1, (await host.StatusAsync(Dataset))!.Labels["squares"].Test);

        // Publish the version under a name (a bad name's problem shown beside the form first), then unpublish it.
        var row = page.Locator("#versions tbody tr").First;
        var version = await row.GetAttributeAsync("data-version");
        await row.Locator("form.publish input").FillAsync("not a name!");
        await row.Locator("form.publish button").ClickAsync();
        await Expect(row.Locator($"#publish-problem-{version}")).ToContainTextAsync("Invalid name");
        await row.Locator("form.publish input").FillAsync("production");
        await row.Locator("form.publish button").ClickAsync();
        await Expect(row.Locator("td.published")).ToContainTextAsync("production");
        Assert.Contains("\"production\"", await host.Http.GetStringAsync($"/api/datasets/{Dataset}/models"));
        await Shot(page, "05c-published");
        await CheckAccessibilityAsync(page, axe, "models");
        await row.Locator("button[aria-label^='Unpublish production']").ClickAsync();
        await Expect(row.Locator("td.published")).Not.ToContainTextAsync("production");
        Assert.DoesNotContain("\"production\"", await host.Http.GetStringAsync($"/api/datasets/{Dataset}/models"));

        // Try it: a generated circle scores circles first.
        await page.Locator("#tab-try").ClickAsync();
        await page.Locator("#panel-try input[type=file]:not([capture])").SetInputFilesAsync(tryImage);
        await Expect(page.Locator("#try-results .top-label").First).ToHaveTextAsync("circles");
        await Shot(page, "06-try-it");

        // The square filed under circles is moved to squares; the counts follow.
        await page.Locator("#tab-images").ClickAsync();
        var before = (await host.StatusAsync(Dataset))!.Labels;
        var card = page.Locator("details.label[data-label=circles]");
        await card.Locator("summary").ClickAsync();
        var split = UploadSorter.InTest(wrongHash, new PipelineOptions().TestFraction) ? "test" : "train";
        await card.Locator("select").First.SelectOptionAsync(split);
        var move = card.Locator($"select[aria-label='Move image {wrongHash[..8]} to label']");
        await move.SelectOptionAsync("squares");
        await Expect(page.Locator("details.label[data-label=squares] .counts"))
            .ToContainTextAsync(Counts(before["squares"], split, +1));
        await Expect(page.Locator("details.label[data-label=circles] .counts"))
            .ToContainTextAsync(Counts(before["circles"], split, -1));
        await Expect(page.Locator("details.label[data-label=circles] img").First).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("""
            () => [...document.querySelectorAll('details.label[data-label=circles] img')]
              .every(i => i.complete && i.naturalWidth > 0)
            """);
        await Shot(page, "07-moved");
        await CheckAccessibilityAsync(page, axe, "images");

        // A phone's width.
        await page.SetViewportSizeAsync(390, 844);
        await page.Locator("#tab-try").ClickAsync();
        await Shot(page, "08-phone");

        string[] seen;
        lock (requests) seen = requests.ToArray();
        Assert.NotEmpty(seen);
        Assert.All(seen, url => Assert.True(url.StartsWith(origin + "/") || url.StartsWith("blob:")
            || url.StartsWith("data:") || url == "about:srcdoc", $"The page fetched {url} from outside the app."));
        try { folder.Delete(recursive: true); } catch (IOException) { }
    }

    /// <summary>shapes/{circles,squares,stripes}/ with two squares filed under circles (the second one's content
    /// lands in the test split) and a corrupt file; returns the squares' content hashes and a fresh circle to
    /// try.</summary>
    private static (string WrongHash, string TestSquareHash, string TryImage) WriteDataset(string folder)
    {
        foreach (var (label, file, content) in GeneratedImages.Dataset(3, PerLabel, 7))
        {
            Directory.CreateDirectory(Path.Combine(folder, "shapes", label));
            File.WriteAllBytes(Path.Combine(folder, "shapes", label, file), content);
        }
        var random = new Random(8);
        var wrong = GeneratedImages.Jpeg(1, random);
        File.WriteAllBytes(Path.Combine(folder, "shapes", "circles", "actually-a-square.jpg"), wrong);
        File.WriteAllBytes(Path.Combine(folder, "shapes", "circles", "broken.jpg"), wrong[..300]);
        var tryImage = Path.Combine(folder, "try-circle.jpg");
        File.WriteAllBytes(tryImage, GeneratedImages.Jpeg(0, random));
        // The split puts an image in test by its content's hash: draw squares until one goes there.
        var fraction = new PipelineOptions().TestFraction;
        var testSquare = Enumerable.Range(100, 200).Select(seed => GeneratedImages.Jpeg(1, new Random(seed)))
            .First(content => UploadSorter.InTest(Hash(content), fraction));
        File.WriteAllBytes(Path.Combine(folder, "shapes", "circles", "test-square.jpg"), testSquare);
        return (Hash(wrong), Hash(testSquare), tryImage);
    }

    private static string Hash(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    private static string Counts(SplitCounts counts, string split, int change) => split == "train"
        ? $"{counts.Train + change} train · {counts.Test} test"
        : $"{counts.Train} train · {counts.Test + change} test";

    private static async Task DropFileAsync(IPage page, string selector, string name, byte[] content) =>
        await page.EvaluateAsync("""
            ([selector, name, bytes]) => {
              const transfer = new DataTransfer();
              transfer.items.add(new File([new Uint8Array(bytes)], name, { type: 'image/jpeg' }));
              document.querySelector(selector).dispatchEvent(
                new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
            }
            """, new object[] { selector, name, content.Select(b => (int)b).ToArray() });

    private async Task CheckAccessibilityAsync(IPage page, string axe, string view)
    {
        await page.AddScriptTagAsync(new() { Path = axe });
        var result = await page.EvaluateAsync<JsonElement>("""
            async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
              .map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')) }))
            """);
        var violations = result.EnumerateArray().ToList();
        foreach (var v in violations) output.WriteLine($"axe ({view}): {v}");
        Assert.DoesNotContain(violations, v => v.GetProperty("impact").GetString() is "serious" or "critical");
    }

    private async Task Shot(IPage page, string name)
    {
        var path = Path.Combine(Shots, name + ".png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output.WriteLine($"screenshot {path}");
    }
}
