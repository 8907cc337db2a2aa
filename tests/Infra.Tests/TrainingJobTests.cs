using System.Text.Json;

namespace Pipeline.Infra.Tests;

/// <summary>The trainer runs as an event-driven job on a serverless GPU profile, T4 by default, A100 by
/// parameter.</summary>
[Collection(SnapshotCollection.Name)]
public sealed class TrainingJobTests(DefaultSnapshot fixture)
{
    private readonly DeploymentSnapshot snapshot = fixture.Snapshot;

    [Fact]
    public void Job_takes_one_TrainingJob_per_execution_with_a_timeout_and_a_retry_limit()
    {
        var configuration = snapshot.Single("Microsoft.App/jobs").GetProperty("properties")
            .GetProperty("configuration");
        Assert.Equal("Event", configuration.GetProperty("triggerType").GetString());
        Assert.InRange(configuration.GetProperty("replicaTimeout").GetInt32(), 600, 86400);
        Assert.InRange(configuration.GetProperty("replicaRetryLimit").GetInt32(), 0, 3);
        var trigger = configuration.GetProperty("eventTriggerConfig");
        Assert.Equal(1, trigger.GetProperty("parallelism").GetInt32());
        Assert.Equal(1, trigger.GetProperty("replicaCompletionCount").GetInt32());
        Assert.Equal(0, trigger.GetProperty("scale").GetProperty("minExecutions").GetInt32());
        var registry = Assert.Single(configuration.GetProperty("registries").EnumerateArray());
        Assert.Contains("/userAssignedIdentities/id-train-", registry.GetProperty("identity").GetString());
    }

    [Fact]
    public void Default_is_a_T4_profile_sized_to_the_card()
    {
        AssertGpu(snapshot, "Consumption-GPU-NC8as-T4", cpu: 8, memory: "56Gi");
    }

    [Fact]
    public void A100_parameter_moves_the_job_to_an_A100_profile()
    {
        var a100 = DeploymentSnapshot.Evaluate("param gpuProfile = 'Consumption-GPU-NC24-A100'");
        AssertGpu(a100, "Consumption-GPU-NC24-A100", cpu: 24, memory: "220Gi");
    }

    [Fact]
    public void Location_is_limited_to_regions_with_serverless_GPUs()
    {
        var run = BicepCli.Run("build", Repository.PathOf("infra/main.bicep"), "--stdout");
        using var template = JsonDocument.Parse(run.Output);
        var allowed = template.RootElement.GetProperty("parameters").GetProperty("location")
            .GetProperty("allowedValues")
            .EnumerateArray().Select(v => v.GetString()).Order();
        Assert.Equal(new[] { "australiaeast", "swedencentral", "westus3" }, allowed);
    }

    private static void AssertGpu(DeploymentSnapshot deployment, string profileType, int cpu, string memory)
    {
        var job = deployment.Single("Microsoft.App/jobs").GetProperty("properties");
        var profiles = deployment.Single("Microsoft.App/managedEnvironments").GetProperty("properties")
            .GetProperty("workloadProfiles")
            .EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!,
                p => p.GetProperty("workloadProfileType").GetString());
        Assert.Equal(profileType, profiles[job.GetProperty("workloadProfileName").GetString()!]);
        var resources = job.GetProperty("template").GetProperty("containers")[0].GetProperty("resources");
        Assert.Equal(cpu, resources.GetProperty("cpu").GetInt32());
        Assert.Equal(memory, resources.GetProperty("memory").GetString());
        Assert.Equal(profileType, deployment.Output("GPU_PROFILE"));
    }
}
