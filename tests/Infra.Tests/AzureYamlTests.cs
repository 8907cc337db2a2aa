using YamlDotNet.RepresentationModel;

namespace Pipeline.Infra.Tests;

/// <summary>azure.yaml's services point at projects that exist and at the resources the Bicep tags for them.</summary>
[Collection(SnapshotCollection.Name)]
public sealed class AzureYamlTests(DefaultSnapshot fixture)
{
    private static readonly YamlMappingNode Root = Load();

    private static YamlMappingNode Load()
    {
        var stream = new YamlStream();
        using var reader = new StringReader(Repository.Read("azure.yaml"));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlMappingNode Service(string name) => (YamlMappingNode)((YamlMappingNode)Root["services"])[name];

    private static string Text(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value!;

    [Theory]
    [InlineData("functions", "function", "functions/Functions.csproj")]
    [InlineData("trainer", "containerapp", "trainer-container/Trainer.csproj")]
    public void Service_points_at_an_existing_dotnet_project(string name, string host, string project)
    {
        var service = Service(name);
        Assert.Equal(host, Text(service, "host"));
        Assert.Equal("dotnet", Text(service, "language"));
        var folder = Repository.PathOf(Text(service, "project"));
        Assert.True(Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*.csproj").Any(),
            $"azure.yaml's service '{name}' points at {Text(service, "project")}, which has no .csproj yet "
                + $"(expected {project}).");
        Assert.True(File.Exists(Repository.PathOf(project)), $"{project} does not exist.");
    }

    [Fact]
    public void Trainer_image_builds_from_the_Dockerfile_with_the_repository_as_context()
    {
        var service = Service("trainer");
        var docker = (YamlMappingNode)service["docker"];
        var project = Repository.PathOf(Text(service, "project"));
        Assert.True(File.Exists(Path.Combine(project, Text(docker, "path"))), "docker.path does not name a file.");
        var context = Path.GetFullPath(Path.Combine(project, Text(docker, "context")));
        Assert.Equal(Path.GetFullPath(Repository.Root).TrimEnd('/'), context.TrimEnd('/'));
    }

    [Fact]
    public void Every_service_has_a_resource_tagged_with_its_name()
    {
        var tagged = fixture.Snapshot.Resources
            .Where(r => r.TryGetProperty("tags", out var tags) && tags.TryGetProperty("azd-service-name", out _))
            .Select(r => r.GetProperty("tags").GetProperty("azd-service-name").GetString())
            .Order();
        var services = ((YamlMappingNode)Root["services"]).Children.Keys.Select(k => ((YamlScalarNode)k).Value).Order();
        Assert.Equal(services, tagged);
    }

    [Fact]
    public void Hooks_exist_and_read_only_outputs_the_Bicep_declares()
    {
        var postdeploy = (YamlMappingNode)((YamlMappingNode)Root["hooks"])["postdeploy"];
        foreach (var shell in new[] { "posix", "windows" })
        {
            var script = Text((YamlMappingNode)postdeploy[shell], "run");
            Assert.True(File.Exists(Repository.PathOf(script)), $"{script} does not exist.");
        }
        var outputs = fixture.Snapshot.Outputs.EnumerateObject().Select(o => o.Name).ToHashSet();
        var read = System.Text.RegularExpressions.Regex.Matches(Repository.Read("infra/hooks/postdeploy.sh"),
            @"\$\{?([A-Z][A-Z0-9_]+)")
            .Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.NotEmpty(read);
        Assert.All(read, name => Assert.True(outputs.Contains(name),
            $"postdeploy.sh reads {name}, which main.bicep does not output."));
    }
}
