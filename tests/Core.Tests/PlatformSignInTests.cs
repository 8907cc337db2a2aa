using System.Text.Json;
using Pipeline.Core.Serving;

namespace Pipeline.Core.Tests;

/// <summary>Signed-in callers instead of a function key, only where the platform's authentication is on.</summary>
public sealed class PlatformSignInTests
{
    // A principal header as the platform sets it: base64 of the caller's claims.
    private const string Principal = "eyJhdXRoX3R5cCI6ImFhZCIsImNsYWltcyI6W119";

    // The functions' metadata as the worker's source generator writes it (functions.metadata has the same bindings).
    private const string KeyTrigger = """
        {"name":"request","direction":"In","type":"httpTrigger","authLevel":"Function","methods":["post"],
        "route":"datasets","properties":{}}
        """;

    [Theory]
    [InlineData("True", true)]
    [InlineData("true", true)]
    [InlineData(" True ", true)]
    [InlineData("False", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("1", false)]
    public void The_platform_setting_says_whether_its_authentication_is_on(string? value, bool on) =>
        Assert.Equal(on, PlatformSignIn.IsOn(value));

    [Fact]
    public void A_signed_in_caller_passes_where_the_platform_authentication_is_on() =>
        Assert.Null(PlatformSignIn.Check(platformAuthOn: true, Principal));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void A_caller_the_platform_did_not_sign_in_gets_a_401_that_says_how_to_sign_in(string? principal)
    {
        var problem = PlatformSignIn.Check(platformAuthOn: true, principal);
        Assert.NotNull(problem);
        Assert.Equal(401, problem.Status);
        Assert.Equal("Sign-in needed", problem.Title);
        Assert.Contains(PlatformSignIn.LoginPath, problem.Detail);
    }

    [Fact]
    public void A_principal_header_counts_for_nothing_where_the_platform_authentication_is_off()
    {
        // Off, the platform does not strip the header: anyone could send it. The key stays needed.
        var problem = PlatformSignIn.Check(platformAuthOn: false, Principal);
        Assert.NotNull(problem);
        Assert.Equal(401, problem.Status);
        Assert.Contains("function key", problem.Detail);
    }

    [Fact]
    public void A_key_level_http_trigger_is_opened_to_the_platform_and_keeps_the_rest_of_its_binding()
    {
        var opened = PlatformSignIn.OpenToSignedIn(KeyTrigger);
        Assert.NotNull(opened);
        using var json = JsonDocument.Parse(opened);
        var binding = json.RootElement;
        Assert.Equal("Anonymous", binding.GetProperty("authLevel").GetString());
        Assert.Equal("httpTrigger", binding.GetProperty("type").GetString());
        Assert.Equal("datasets", binding.GetProperty("route").GetString());
        Assert.Equal("post", binding.GetProperty("methods")[0].GetString());
        Assert.Equal("request", binding.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("""{"name":"request","direction":"In","type":"httpTrigger","authLevel":"Anonymous"}""")]
    [InlineData("""{"name":"request","direction":"In","type":"httpTrigger","authLevel":"Admin","route":"x"}""")]
    [InlineData("""{"name":"upload","direction":"In","type":"blobTrigger","path":"uploads/{name}"}""")]
    [InlineData("""{"name":"$return","direction":"Out","type":"http"}""")]
    public void Other_bindings_stay_as_they_are(string binding) => Assert.Null(PlatformSignIn.OpenToSignedIn(binding));
}
