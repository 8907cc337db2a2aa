using System.Text.Json;

namespace Pipeline.Infra.Tests;

/// <summary>
/// What infra/main.bicep would deploy, evaluated offline by `bicep snapshot`: modules expanded, loops unrolled,
/// names and parameters resolved. Only values known after deployment (principal ids, keys) stay expressions.
/// </summary>
public sealed class DeploymentSnapshot
{
    public const string UserPrincipalId = "11111111-1111-1111-1111-111111111111";
    private const string SubscriptionId = "00000000-0000-0000-0000-000000000000";

    public IReadOnlyList<JsonElement> Resources { get; }
    public JsonElement Outputs { get; }

    private DeploymentSnapshot(JsonElement root)
    {
        Resources = root.GetProperty("predictedResources").EnumerateArray().ToList();
        Outputs = root.GetProperty("outputs");
    }

    /// <summary>Evaluates main.bicep with the parameters azd would pass; <paramref name="extra"/> adds `param x = ...`
    /// lines.</summary>
    public static DeploymentSnapshot Evaluate(params string[] extra)
    {
        var folder = Directory.CreateTempSubdirectory("infra-snapshot-");
        try
        {
            var main = Path.GetRelativePath(folder.FullName, Repository.PathOf("infra/main.bicep")).Replace('\\', '/');
            var parameters = Path.Combine(folder.FullName, "ci.bicepparam");
            File.WriteAllLines(parameters, [
                $"using '{main}'",
                "param environmentName = 'ci'",
                "param location = 'westus3'",
                $"param principalId = '{UserPrincipalId}'",
                .. extra,
            ]);
            var run = BicepCli.Run("snapshot", parameters, "--mode", "overwrite", "--subscription-id", SubscriptionId,
                "--location", "westus3", "--tenant-id", "22222222-2222-2222-2222-222222222222");
            if (run.ExitCode != 0)
                throw new InvalidOperationException($"bicep snapshot failed:\n{run.Output}\n{run.Errors}");
            using var json = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(parameters, ".snapshot.json")));
            return new DeploymentSnapshot(json.RootElement.Clone());
        }
        finally { folder.Delete(recursive: true); }
    }

    public IEnumerable<JsonElement> OfType(string type) =>
        Resources.Where(r => string.Equals(r.GetProperty("type").GetString(), type,
            StringComparison.OrdinalIgnoreCase));

    public JsonElement Single(string type)
    {
        var matches = OfType(type).ToList();
        Assert.True(matches.Count == 1, $"Expected one {type}, found {matches.Count}.");
        return matches[0];
    }

    public string Output(string name) => Outputs.GetProperty(name).GetString()!;

    /// <summary>The data account: the one azd reports as AZURE_STORAGE_ACCOUNT.</summary>
    public string DataAccount => Output("AZURE_STORAGE_ACCOUNT");

    /// <summary>Names of the children of <paramref name="type"/> in the data account (containers or queues).</summary>
    public IReadOnlyList<string> DataAccountChildren(string type) => OfType(type)
        .Select(r => r.GetProperty("name").GetString()!.Split('/'))
        .Where(parts => parts[0] == DataAccount)
        .Select(parts => parts[^1])
        .ToList();

    /// <summary>name → value of a `name`/`value` list such as appSettings or a container's env.</summary>
    public static Dictionary<string, string> NameValues(JsonElement list) =>
        list.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!,
            e => e.GetProperty("value").ToString());
}

/// <summary>One snapshot with the default parameters, shared by every test class (bicep takes about a
/// second).</summary>
public sealed class DefaultSnapshot
{
    public DeploymentSnapshot Snapshot { get; } = DeploymentSnapshot.Evaluate();
}

[CollectionDefinition(Name)]
public sealed class SnapshotCollection : ICollectionFixture<DefaultSnapshot>
{
    public const string Name = "snapshot";
}
