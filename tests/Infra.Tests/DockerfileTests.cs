using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Pipeline.Infra.Tests;

/// <summary>The trainer image: CUDA build of the trainer, non-root, started as `trainer job`. No Docker engine here, so
/// read it.</summary>
public sealed class DockerfileTests
{
    private static readonly string Dockerfile = Repository.Read("trainer-container/Dockerfile");

    private static string[] EntryPoint()
    {
        var line = Dockerfile.Split('\n').Single(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal));
        return JsonSerializer.Deserialize<string[]>(line["ENTRYPOINT ".Length..])!;
    }

    [Fact]
    public void Entry_point_runs_the_trainer_assembly()
    {
        var entry = EntryPoint();
        var assembly = XDocument.Parse(Repository.Read("trainer-container/Trainer.csproj")).Descendants("AssemblyName")
            .Single().Value;
        Assert.Equal(["dotnet", $"{assembly}.dll"], entry[..2]);
    }

    [Fact]
    public void Entry_point_command_is_one_the_trainer_has()
    {
        var command = EntryPoint()[2];
        // The trainer's commands are System.CommandLine Commands, each defined once in trainer-container/.
        var sources = Directory.EnumerateFiles(Repository.PathOf("trainer-container"), "*.cs",
            SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")).Select(File.ReadAllText);
        Assert.True(sources.Any(s => s.Contains($"new Command(\"{command}\"")),
            $"The trainer defines no \"{command}\" command (new Command(\"{command}\", ...)) in trainer-container/.");
    }

    [Fact]
    public void Build_stage_publishes_the_CUDA_build()
    {
        Assert.Matches(@"(?m)^RUN dotnet publish trainer-container .*-p:TorchDevice=cuda", Dockerfile);
        var froms = Regex.Matches(Dockerfile, @"(?m)^FROM (\S+)").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, froms.Count);
        Assert.Matches(@"^nvidia/cuda:12\.\d+(\.\d+)?-runtime-ubuntu24\.04$", froms[^1]);
        Assert.Contains("dotnet-runtime-10.0", Dockerfile);
    }

    [Fact]
    public void Runtime_runs_as_a_non_root_user()
    {
        var user = Regex.Matches(Dockerfile, @"(?m)^USER (\S+)").Select(m => m.Groups[1].Value).Last();
        Assert.NotEqual("root", user);
        Assert.NotEqual("0", user);
        Assert.True(Dockerfile.LastIndexOf("\nUSER ", StringComparison.Ordinal) < Dockerfile.IndexOf("\nENTRYPOINT ",
            StringComparison.Ordinal));
    }

    [Fact]
    public void Project_switches_libtorch_on_TorchDevice_and_defaults_to_cpu()
    {
        var project = XDocument.Parse(Repository.Read("trainer-container/Trainer.csproj"));
        string? Reference(string device) => project.Descendants("ItemGroup")
            .Where(g => (string?)g.Attribute("Condition") == $"'$(TorchDevice)' == '{device}'")
            .SelectMany(g => g.Elements("PackageReference")).Select(r => (string?)r.Attribute("Include"))
                .SingleOrDefault();
        Assert.Equal("libtorch-cpu-linux-x64", Reference("cpu"));
        Assert.Equal("TorchSharp-cuda-linux", Reference("cuda"));
        Assert.Contains(project.Descendants("TorchDevice"), d => d.Value == "cpu");
    }

    [Fact]
    public void Build_context_leaves_build_outputs_behind()
    {
        var ignore = Repository.Read("trainer-container/Dockerfile.dockerignore").Split('\n').Select(l => l.Trim())
            .ToList();
        Assert.Contains("**/bin/", ignore);
        Assert.Contains("**/obj/", ignore);
        // Everything the Dockerfile copies must be let through.
        foreach (var copied in Regex.Matches(Dockerfile,
            @"(?m)^COPY (?!--from)(.+) \S+$").SelectMany(m => m.Groups[1].Value.Split(' ')))
            Assert.Contains(ignore, l => l == $"!{copied}" || l == $"!{copied.Split('/')[0]}/");
    }
}
