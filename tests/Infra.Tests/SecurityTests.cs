using System.Text.Json;
using Pipeline.Core.Contract;

namespace Pipeline.Infra.Tests;

/// <summary>Secure by default: Entra ID everywhere, no keys in settings, and the role table of the README's Deployment
/// section.</summary>
[Collection(SnapshotCollection.Name)]
public sealed class SecurityTests(DefaultSnapshot fixture)
{
    private readonly DeploymentSnapshot snapshot = fixture.Snapshot;

    private static readonly Dictionary<string, string> RoleNames = new()
    {
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"] = "Storage Blob Data Contributor",
        ["2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"] = "Storage Blob Data Reader",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
        ["7f951dda-4ed3-4680-a7ca-43fe172d538d"] = "AcrPull",
        ["4633458b-17de-408a-b874-0445c86b69e6"] = "Key Vault Secrets User",
    };

    // The table in the README's Deployment section, row for row: (who, role, on what).
    private static readonly (string Who, string Role, string Scope)[] RoleTable =
    [
        ("functions", "Storage Blob Data Owner", "host account"),
        ("functions", "Storage Queue Data Contributor", "host account"),
        ("functions", "Storage Blob Data Contributor", "data account"),
        ("functions", "Storage Queue Data Contributor", "data account"),
        ("functions", "Monitoring Metrics Publisher", "Application Insights"),
        ("functions", "Key Vault Secrets User", "key vault: secret prediction-key"),
        ("trainer", "Storage Blob Data Reader", "data account"),
        ("trainer", "Storage Blob Data Contributor", "data account: container models"),
        ("trainer", "Storage Queue Data Contributor", "data account: queue training-jobs"),
        ("trainer", "Storage Queue Data Contributor", "data account: queue training-jobs-poison"),
        ("trainer", "AcrPull", "container registry"),
        ("trainer", "Monitoring Metrics Publisher", "Application Insights"),
        ("user", "Storage Blob Data Contributor", "data account"),
        ("user", "Key Vault Secrets User", "key vault: secret prediction-key"),
    ];

    [Fact]
    public void Storage_accounts_accept_only_Entra_ID_over_TLS_1_2()
    {
        var accounts = snapshot.OfType("Microsoft.Storage/storageAccounts").ToList();
        Assert.Equal(2, accounts.Count);
        Assert.All(accounts, account =>
        {
            var p = account.GetProperty("properties");
            Assert.False(p.GetProperty("allowSharedKeyAccess").GetBoolean());
            Assert.False(p.GetProperty("allowBlobPublicAccess").GetBoolean());
            Assert.True(p.GetProperty("supportsHttpsTrafficOnly").GetBoolean());
            Assert.Equal("TLS1_2", p.GetProperty("minimumTlsVersion").GetString());
        });
        Assert.All(snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"),
            c => Assert.Equal("None", c.GetProperty("properties").GetProperty("publicAccess").GetString()));
    }

    [Fact]
    public void No_setting_holds_a_key_or_a_storage_connection_string()
    {
        var site = snapshot.Single("Microsoft.Web/sites").GetProperty("properties");
        var settings = DeploymentSnapshot.NameValues(site.GetProperty("siteConfig").GetProperty("appSettings"));
        var env = DeploymentSnapshot.NameValues(snapshot.Single("Microsoft.App/jobs").GetProperty("properties")
            .GetProperty("template").GetProperty("containers")[0].GetProperty("env"));

        foreach (var (name, value) in settings.Concat(env))
        {
            // The Application Insights connection string only names the resource: with local auth off, writing needs
            // Entra ID.
            if (name != "APPLICATIONINSIGHTS_CONNECTION_STRING")
                Assert.DoesNotContain("connectionstring", name.Replace("_", ""), StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("AccountKey", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("SharedAccessSignature", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("listKeys", value, StringComparison.OrdinalIgnoreCase);
        }
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("UserAssignedIdentity",
            site.GetProperty("functionAppConfig").GetProperty("deployment").GetProperty("storage")
            .GetProperty("authentication").GetProperty("type").GetString());
        Assert.True(site.GetProperty("httpsOnly").GetBoolean());
    }

    [Fact]
    public void The_prediction_key_is_a_Key_Vault_reference_read_with_the_apps_identity()
    {
        var site = snapshot.Single("Microsoft.Web/sites").GetProperty("properties");
        var settings = DeploymentSnapshot.NameValues(site.GetProperty("siteConfig").GetProperty("appSettings"));
        // The secret's uri is known only once deployed: the snapshot keeps it as an expression.
        Assert.Contains("@Microsoft.KeyVault(SecretUri=", settings[SettingNames.PredictionKey]);
        Assert.Contains("secretUri", settings[SettingNames.PredictionKey]);
        Assert.Contains("/userAssignedIdentities/id-func-", site.GetProperty("keyVaultReferenceIdentity").GetString());
        var vault = snapshot.Single("Microsoft.KeyVault/vaults").GetProperty("properties");
        Assert.True(vault.GetProperty("enableRbacAuthorization").GetBoolean());
        Assert.Equal("prediction-key", snapshot.Single("Microsoft.KeyVault/vaults/secrets").GetProperty("name")
            .GetString()!.Split('/')[^1]);
    }

    [Fact]
    public void Compute_uses_user_assigned_identities_only()
    {
        foreach (var type in new[] { "Microsoft.Web/sites", "Microsoft.App/jobs" })
            Assert.Equal("UserAssigned", snapshot.Single(type).GetProperty("identity").GetProperty("type").GetString());
    }

    [Fact]
    public void Telemetry_registry_and_publishing_refuse_local_secrets()
    {
        Assert.True(snapshot.Single("Microsoft.Insights/components").GetProperty("properties")
            .GetProperty("DisableLocalAuth").GetBoolean());
        Assert.True(snapshot.Single("Microsoft.OperationalInsights/workspaces").GetProperty("properties")
            .GetProperty("features").GetProperty("disableLocalAuth").GetBoolean());
        Assert.False(snapshot.Single("Microsoft.ContainerRegistry/registries").GetProperty("properties")
            .GetProperty("adminUserEnabled").GetBoolean());
        Assert.Equal("azure-monitor", snapshot.Single("Microsoft.App/managedEnvironments").GetProperty("properties")
            .GetProperty("appLogsConfiguration").GetProperty("destination").GetString());
        var policies = snapshot.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();
        Assert.Equal(2, policies.Count);
        Assert.All(policies, p => Assert.False(p.GetProperty("properties").GetProperty("allow").GetBoolean()));
    }

    [Fact]
    public void Role_assignments_are_exactly_the_documented_table()
    {
        var actual = snapshot.OfType("Microsoft.Authorization/roleAssignments").Select(Describe).Order().ToList();
        Assert.Equal(RoleTable.Select(r => $"{r.Who} | {r.Role} | {r.Scope}").Order(), actual);
    }

    [Fact]
    public void Role_table_is_the_one_in_the_README()
    {
        var doc = Repository.Section("README.md", "## Deployment");
        Assert.All(RoleTable, r => Assert.Contains($"| {r.Who} | {r.Role} | {r.Scope} |", doc));
    }

    private string Describe(JsonElement assignment)
    {
        var id = assignment.GetProperty("id").GetString()!;
        var scope = id[..id.IndexOf("/providers/Microsoft.Authorization/roleAssignments/", StringComparison.Ordinal)];
        var properties = assignment.GetProperty("properties");
        var roleId = properties.GetProperty("roleDefinitionId").GetString()!.Split('/')[^1];
        Assert.True(RoleNames.TryGetValue(roleId, out var role), $"Unexpected role {roleId} on {scope}.");
        var principal = properties.GetProperty("principalId").GetString()!;
        var who = principal.Contains("/userAssignedIdentities/id-func-") ? "functions"
            : principal.Contains("/userAssignedIdentities/id-train-") ? "trainer"
            : principal == DeploymentSnapshot.UserPrincipalId ? "user"
            : throw new InvalidOperationException($"Unknown principal {principal}.");
        return $"{who} | {role} | {ScopeLabel(scope)}";
    }

    private string ScopeLabel(string scope)
    {
        var parts = scope.Split('/');
        var provider = string.Join('/', parts.SkipWhile(p => p != "providers").Skip(1));
        var data = $"Microsoft.Storage/storageAccounts/{snapshot.DataAccount}";
        if (provider == data) return "data account";
        if (provider.StartsWith(data + "/blobServices/default/containers/"))
            return $"data account: container {parts[^1]}";
        if (provider.StartsWith(data + "/queueServices/default/queues/")) return $"data account: queue {parts[^1]}";
        if (provider.StartsWith("Microsoft.Storage/storageAccounts/") && parts.Length == 9) return "host account";
        if (provider.StartsWith("Microsoft.ContainerRegistry/registries/")) return "container registry";
        if (provider.StartsWith("Microsoft.Insights/components/")) return "Application Insights";
        if (provider.StartsWith("Microsoft.KeyVault/vaults/") && parts.Length == 11)
            return $"key vault: secret {parts[^1]}";
        return $"unexpected scope {scope}";
    }
}
