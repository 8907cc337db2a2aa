using System.Text.Json;
using System.Text.RegularExpressions;

namespace Pipeline.Infra.Tests;

/// <summary>
/// App Service authentication with Microsoft Entra ID: off unless an app registration is named (azd's
/// AZURE_AUTH_CLIENT_ID), then on with that registration, 401 for the API and the studio's page left open so that it
/// can send the browser to sign in.
/// </summary>
[Collection(SnapshotCollection.Name)]
public sealed class SignInTests(DefaultSnapshot fixture)
{
    private const string ClientId = "33333333-3333-3333-3333-333333333333";
    private const string DeploymentTenant = "22222222-2222-2222-2222-222222222222";
    private const string OtherTenant = "44444444-4444-4444-4444-444444444444";

    [Fact]
    public void Without_an_app_registration_there_is_no_App_Service_authentication()
    {
        Assert.Empty(AuthSettings(fixture.Snapshot));
        Assert.DoesNotContain(DeploymentSnapshot.Evaluate("param authClientId = ''").Resources,
            r => r.GetProperty("type").GetString()!.StartsWith("Microsoft.Web/sites/config",
                StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void With_an_app_registration_Entra_ID_signs_users_in_and_the_API_answers_401_without_a_sign_in()
    {
        var snapshot = DeploymentSnapshot.Evaluate($"param authClientId = '{ClientId}'");
        var auth = Assert.Single(AuthSettings(snapshot)).GetProperty("properties");

        Assert.True(auth.GetProperty("platform").GetProperty("enabled").GetBoolean());
        var validation = auth.GetProperty("globalValidation");
        Assert.True(validation.GetProperty("requireAuthentication").GetBoolean());
        Assert.Equal("Return401", validation.GetProperty("unauthenticatedClientAction").GetString());

        var entra = auth.GetProperty("identityProviders").GetProperty("azureActiveDirectory");
        Assert.True(entra.GetProperty("enabled").GetBoolean());
        var registration = entra.GetProperty("registration");
        Assert.Equal(ClientId, registration.GetProperty("clientId").GetString());
        Assert.Equal($"https://login.microsoftonline.com/{DeploymentTenant}/v2.0",
            Issuer(registration));
        var audiences = entra.GetProperty("validation").GetProperty("allowedAudiences").EnumerateArray()
            .Select(a => a.GetString()).ToList();
        Assert.Contains(ClientId, audiences);
        Assert.Contains($"api://{ClientId}", audiences);
        // No client secret: the studio signs in with ID tokens, so nothing secret is configured.
        Assert.False(registration.TryGetProperty("clientSecretSettingName", out _));

        Assert.True(auth.GetProperty("login").GetProperty("tokenStore").GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public void Only_the_studio_page_Custom_Vision_routes_and_the_hosts_webhooks_skip_the_sign_in()
    {
        var snapshot = DeploymentSnapshot.Evaluate($"param authClientId = '{ClientId}'");
        var excluded = Assert.Single(AuthSettings(snapshot)).GetProperty("properties").GetProperty("globalValidation")
            .GetProperty("excludedPaths").EnumerateArray().Select(p => p.GetString()!).ToList();

        // The studio's files hold no secret; Custom Vision's routes carry their own Prediction-Key; Event Grid calls
        // the host's blob webhook with its system key.
        Assert.Equal(["/api/studio", "/api/studio/*", "/api/customvision/*", "/runtime/webhooks/*"], excluded);
        Assert.DoesNotContain(excluded, p => p is "/api/*" or "/*" or "/api/datasets/*");
    }

    [Fact]
    public void The_tenant_is_the_deployments_unless_one_is_named()
    {
        var snapshot = DeploymentSnapshot.Evaluate($"param authClientId = '{ClientId}'",
            $"param authTenantId = '{OtherTenant}'");
        var registration = Assert.Single(AuthSettings(snapshot)).GetProperty("properties")
            .GetProperty("identityProviders").GetProperty("azureActiveDirectory").GetProperty("registration");
        Assert.Equal($"https://login.microsoftonline.com/{OtherTenant}/v2.0",
            Issuer(registration));
    }

    [Fact]
    public void Azd_passes_the_app_registration_from_its_environment_and_leaves_it_off_by_default()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("infra/main.parameters.json")));
        var parameters = json.RootElement.GetProperty("parameters");
        string Value(string name) => parameters.GetProperty(name).GetProperty("value").GetString()!;
        Assert.Equal("${AZURE_AUTH_CLIENT_ID}", Value("authClientId"));
        Assert.Equal("${AZURE_AUTH_TENANT_ID}", Value("authTenantId"));
        var main = File.ReadAllText(Repository.PathOf("infra/main.bicep"));
        Assert.Contains("param authClientId string = ''", main);
    }

    [Fact]
    public void The_README_tells_how_to_create_the_app_registration()
    {
        var doc = Repository.Section("README.md", "## Deployment");
        Assert.Contains("az ad app create", doc);
        Assert.Contains("/.auth/login/aad/callback", doc);
        Assert.Contains("azd env set AZURE_AUTH_CLIENT_ID", doc);
    }

    // The snapshot keeps the cloud's login endpoint as an expression; in Azure's public cloud it is
    // https://login.microsoftonline.com/.
    private static string Issuer(JsonElement registration)
    {
        var issuer = registration.GetProperty("openIdIssuer").GetString()!;
        var match = Regex.Match(issuer,
            @"^\[format\('\{0\}\{1\}/v2\.0', environment\(\)\.authentication\.loginEndpoint, '([^']+)'\)\]$");
        Assert.True(match.Success, $"Unexpected issuer {issuer}.");
        return $"https://login.microsoftonline.com/{match.Groups[1].Value}/v2.0";
    }

    private static IEnumerable<JsonElement> AuthSettings(DeploymentSnapshot snapshot) =>
        snapshot.OfType("Microsoft.Web/sites/config").Where(c => c.GetProperty("name").GetString()!
            .EndsWith("/authsettingsV2", StringComparison.Ordinal));
}
