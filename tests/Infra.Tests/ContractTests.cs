using System.Reflection;
using System.Text.Json;
using Pipeline.Core.Contract;

namespace Pipeline.Infra.Tests;

/// <summary>Every container, queue and setting the code uses is created or set by the Bicep, under the same
/// name.</summary>
[Collection(SnapshotCollection.Name)]
public sealed class ContractTests(DefaultSnapshot fixture)
{
    private readonly DeploymentSnapshot snapshot = fixture.Snapshot;

    private static string[] StorageList(string field) =>
        (string[])typeof(StorageNames).GetField(field, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    private static string Constant(Type type, string name) =>
        (string)type.GetField(name, BindingFlags.Public | BindingFlags.Static)!.GetRawConstantValue()!;

    [Fact]
    public void Data_account_has_exactly_the_contract_containers()
    {
        var created = snapshot.DataAccountChildren("Microsoft.Storage/storageAccounts/blobServices/containers");
        Assert.Equal(StorageList(nameof(StorageNames.Containers)).Order(), created.Order());
    }

    [Fact]
    public void Kept_predictions_are_deleted_by_a_lifecycle_rule_after_the_default_days()
    {
        var policy = snapshot.Single("Microsoft.Storage/storageAccounts/managementPolicies");
        Assert.StartsWith($"{snapshot.DataAccount}/", policy.GetProperty("name").GetString());
        var rule = Assert.Single(policy.GetProperty("properties").GetProperty("policy").GetProperty("rules")
            .EnumerateArray()).GetProperty("definition");
        Assert.Equal($"{StorageNames.Predictions}/",
            Assert.Single(rule.GetProperty("filters").GetProperty("prefixMatch").EnumerateArray()).GetString());
        Assert.Equal(new PipelineOptions().KeepPredictionsDays, rule.GetProperty("actions").GetProperty("baseBlob")
            .GetProperty("delete").GetProperty("daysAfterCreationGreaterThan").GetInt32());
    }

    [Fact]
    public void Data_account_has_exactly_the_contract_queues()
    {
        var created = snapshot.DataAccountChildren("Microsoft.Storage/storageAccounts/queueServices/queues");
        Assert.Equal(StorageList(nameof(StorageNames.Queues)).Order(), created.Order());
    }

    [Fact]
    public void Bicep_contract_file_names_the_same_connection()
    {
        using var contract = JsonDocument.Parse(Repository.Read("infra/app/contract.json"));
        Assert.Equal(Constant(typeof(StorageNames), nameof(StorageNames.Connection)),
            contract.RootElement.GetProperty("connection").GetString());
    }

    [Fact]
    public void Functions_app_has_every_setting_the_functions_read()
    {
        var settings = FunctionAppSettings();
        Assert.All(SettingNames.Functions,
            name => Assert.True(settings.ContainsKey(name), $"The function app lacks {name}."));
        AssertPointsAtDataAccount(settings, "id-func-");
    }

    [Fact]
    public void Training_job_has_every_setting_the_trainer_reads()
    {
        var env = TrainerEnvironment();
        Assert.All(SettingNames.Trainer, name => Assert.True(env.ContainsKey(name), $"The training job lacks {name}."));
        AssertPointsAtDataAccount(env, "id-train-");
    }

    [Fact]
    public void Training_job_scales_on_the_training_queue_of_the_data_account()
    {
        var rule = Assert.Single(snapshot.Single("Microsoft.App/jobs").GetProperty("properties")
            .GetProperty("configuration")
            .GetProperty("eventTriggerConfig").GetProperty("scale").GetProperty("rules").EnumerateArray());
        Assert.Equal("azure-queue", rule.GetProperty("type").GetString());
        var metadata = rule.GetProperty("metadata");
        Assert.Equal(StorageNames.TrainingQueue, metadata.GetProperty("queueName").GetString());
        Assert.Equal(snapshot.DataAccount, metadata.GetProperty("accountName").GetString());
        Assert.Equal("1", metadata.GetProperty("queueLength").GetString());
        Assert.Contains("/userAssignedIdentities/id-train-", rule.GetProperty("identity").GetString());
    }

    [Fact]
    public void Uploads_events_come_from_the_data_account()
    {
        var topic = snapshot.Single("Microsoft.EventGrid/systemTopics").GetProperty("properties");
        Assert.EndsWith($"/storageAccounts/{snapshot.DataAccount}", topic.GetProperty("source").GetString());
        Assert.Equal("Microsoft.Storage.StorageAccounts", topic.GetProperty("topicType").GetString());
        Assert.Equal(StorageNames.Uploads, snapshot.Output("UPLOADS_CONTAINER"));
    }

    private Dictionary<string, string> FunctionAppSettings() => DeploymentSnapshot.NameValues(
        snapshot.Single("Microsoft.Web/sites").GetProperty("properties").GetProperty("siteConfig")
            .GetProperty("appSettings"));

    private Dictionary<string, string> TrainerEnvironment() => DeploymentSnapshot.NameValues(Assert.Single(
        snapshot.Single("Microsoft.App/jobs").GetProperty("properties").GetProperty("template")
            .GetProperty("containers").EnumerateArray())
        .GetProperty("env"));

    private void AssertPointsAtDataAccount(Dictionary<string, string> settings, string identityPrefix)
    {
        Assert.Contains($"'{snapshot.DataAccount}'", settings[SettingNames.StorageBlobServiceUri]);
        Assert.Contains("https://{0}.blob.", settings[SettingNames.StorageBlobServiceUri]);
        Assert.Contains($"'{snapshot.DataAccount}'", settings[SettingNames.StorageQueueServiceUri]);
        Assert.Contains("https://{0}.queue.", settings[SettingNames.StorageQueueServiceUri]);
        Assert.Equal("managedidentity", settings[SettingNames.StorageCredential]);
        Assert.Contains($"/userAssignedIdentities/{identityPrefix}", settings[SettingNames.StorageClientId]);
        Assert.EndsWith(".clientId]", settings[SettingNames.StorageClientId]);
    }
}
