namespace Pipeline.Infra.Tests;

/// <summary>infra/main.bicep compiles and lints with zero warnings (bicep exits 0 even with warnings, so read
/// them).</summary>
public sealed class BicepTests
{
    private static readonly string Main = Repository.PathOf("infra/main.bicep");

    [Fact]
    public void Builds_without_warnings()
    {
        var run = BicepCli.Run("build", Main, "--stdout");

        Assert.True(run.ExitCode == 0, run.Errors);
        Assert.Empty(run.Diagnostics);
        Assert.Contains("\"$schema\"", run.Output);
    }

    [Fact]
    public void Lints_without_warnings()
    {
        var run = BicepCli.Run("lint", Main);

        Assert.True(run.ExitCode == 0, run.Errors);
        Assert.Empty(run.Diagnostics);
    }

    [Fact]
    public void Lint_reports_a_planted_warning()
    {
        // Guards the two tests above: a warning must show up in Diagnostics, or "no warnings" means nothing.
        var folder = Directory.CreateTempSubdirectory("bicep-lint-");
        try
        {
            var file = Path.Combine(folder.FullName, "unused.bicep");
            File.WriteAllText(file, "param unused string\n");
            var run = BicepCli.Run("lint", file);
            Assert.Contains(run.Diagnostics, d => d.Contains("no-unused-params"));
        }
        finally { folder.Delete(recursive: true); }
    }
}
