using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Pipeline.Tests;
using Xunit;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Pipeline.Studio.Tests;

/// <summary>
/// The studio where App Service authentication signs users in with Microsoft Entra ID. The platform's /.auth routes
/// are simulated in the browser only (Playwright answers them as the platform does), against the real local host
/// without a key: signed in, no key is asked for; not signed in, or once the session has ended, the browser goes to
/// the sign-in and back to the same place.
/// </summary>
public sealed class StudioSignInTests(ITestOutputHelper output)
{
    private static readonly string[] BrowserPaths = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

    // /.auth/me as the platform answers it with the token store on: one identity per provider.
    private static readonly Regex SignInUrl = new(@"/\.auth/login/aad");

    private const string Me = """
        [{"provider_name":"aad","user_id":"ada@contoso.example",
          "user_claims":[{"typ":"name","val":"Ada Lovelace"}]}]
        """;

    [SkippableFact]
    public async Task Signed_in_users_are_asked_for_no_key_and_others_are_sent_to_sign_in()
    {
        var chromium = BrowserPaths.FirstOrDefault(File.Exists);
        Skip.If(chromium is null, "Debian's chromium is not installed (/usr/bin/chromium).");
        // A first page load on a loaded machine can outlast Playwright's 5 s for assertions.
        SetDefaultExpectTimeout(30_000);
        await using var host = await LocalHostProcess.StartAsync(new Dictionary<string, string>
        {
            ["Local__RunTrainer"] = "false",
        });
        var origin = host.Http.BaseAddress!.GetLeftPart(UriPartial.Authority);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
        });

        // Signed in: who, a sign-out, the datasets, and never the key prompt.
        var signedIn = await PageAsync(browser, me: 200);
        await signedIn.GotoAsync(origin + "/#/");
        await Expect(signedIn.Locator(".who")).ToHaveTextAsync("Signed in as Ada Lovelace");
        await Expect(signedIn.Locator("a[href^='/.auth/logout']")).ToBeVisibleAsync();
        await Expect(signedIn.Locator("#datasets")).ToContainTextAsync("No dataset yet");
        await Expect(signedIn.Locator("#key-button")).ToHaveCountAsync(0);
        await Expect(signedIn.Locator("#key-dialog")).Not.ToBeVisibleAsync();

        // Not signed in: straight to the platform's sign-in, asked to come back to the same route.
        var anonymous = await PageAsync(browser, me: 401);
        await anonymous.GotoAsync(origin + "/#/d/flowers/train");
        // The redirect may land while GotoAsync runs, before a navigation wait could start: poll the URL instead.
        await Expect(anonymous).ToHaveURLAsync(SignInUrl);
        Assert.Equal("/#/d/flowers/train", Query(anonymous.Url, "post_login_redirect_uri"));
        await Expect(anonymous.Locator("body")).ToHaveTextAsync("sign-in page");

        // The session ends while the page is open: the API's 401 sends the browser to sign in, not to a key prompt.
        var ended = await PageAsync(browser, me: 200);
        await ended.GotoAsync(origin + "/#/");
        await Expect(ended.Locator(".who")).ToBeVisibleAsync();
        await ended.RouteAsync("**/api/datasets", route => route.FulfillAsync(new() { Status = 401 }));
        await ended.EvaluateAsync("() => { location.hash = '#/d/flowers/images'; }");
        await Expect(ended).ToHaveURLAsync(SignInUrl);
        Assert.Equal("/#/d/flowers/images", Query(ended.Url, "post_login_redirect_uri"));
    }

    /// <summary>A page whose /.auth routes answer as the platform's would: /.auth/me with <paramref name="me"/>
    /// (200: <see cref="Me"/>), the sign-in with a stand-in page.</summary>
    private async Task<IPage> PageAsync(IBrowser browser, int me)
    {
        var page = await (await browser.NewContextAsync()).NewPageAsync();
        page.SetDefaultTimeout(30_000);
        page.Console += (_, message) => output.WriteLine($"console {message.Type}: {message.Text}");
        await page.RouteAsync("**/.auth/me", route => route.FulfillAsync(new()
        {
            Status = me, ContentType = "application/json", Body = me == 200 ? Me : "",
        }));
        await page.RouteAsync("**/.auth/login/aad**", route => route.FulfillAsync(new()
        {
            Status = 200, ContentType = "text/html", Body = "<!doctype html><title>Sign in</title><p>sign-in page</p>",
        }));
        return page;
    }

    private static string? Query(string url, string name) =>
        System.Web.HttpUtility.ParseQueryString(new Uri(url).Query)[name];
}
