namespace Pipeline.Core.Tests;

/// <summary>One direction of dependency (docs/architecture.md): a file may use its own layer and those below.</summary>
public sealed class LayerTests
{
    private static readonly string Root = FindRoot();

    public static TheoryData<string> Folders => ["core", "http", "functions", "local", "trainer-container", "cli"];

    [Theory]
    [MemberData(nameof(Folders))]
    public void No_file_imports_against_the_order_of_the_layers(string folder)
    {
        var directory = Path.Combine(Root, folder);
        if (!Directory.Exists(directory)) return; // a part not in this checkout yet
        var violations = Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .SelectMany(f => Layers.Violations(Path.GetRelativePath(Root, f), File.ReadAllText(f)))
            .ToList();
        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void Core_files_live_in_the_folder_of_their_layer()
    {
        var core = Path.Combine(Root, "core");
        var misplaced = new List<string>();
        foreach (var file in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(core, file);
            if (relative.StartsWith("obj", StringComparison.Ordinal) || relative.StartsWith("bin",
                StringComparison.Ordinal)) continue;
            var folder = Path.GetDirectoryName(relative) is { Length: > 0 } d ? "Pipeline.Core." + d.Replace('/',
                '.') : "Pipeline.Core";
            if (!File.ReadAllText(file).Contains($"namespace {folder};",
                StringComparison.Ordinal)) misplaced.Add($"core/{relative}");
        }
        Assert.True(misplaced.Count == 0, "Namespace differs from folder: " + string.Join(", ", misplaced));
    }

    [Fact]
    public void An_import_from_a_higher_layer_is_caught()
    {
        const string splitter = """
            using Pipeline.Core.Training;
            namespace Pipeline.Core.Datasets;
            public sealed class Sorter(TrainingDispatch dispatch);
            """;
        Assert.Contains("uses Pipeline.Core.Training", Assert.Single(Layers.Violations("Sorter.cs", splitter)));
    }

    [Fact]
    public void Qualified_names_and_crefs_count_as_imports()
    {
        const string options = """
            namespace Pipeline.Core.Contract;
            /// <see cref="Pipeline.Core.Images.ImageLimits"/>
            public sealed class Settings { public object? Limits => Core.Storage.StorageClients.Create(null!); }
            """;
        var violations = Layers.Violations("Settings.cs", options).ToList();
        Assert.Equal(2, violations.Count);
    }

    [Fact]
    public void A_host_using_another_host_is_caught()
    {
        const string cli = "using Pipeline.Local;\nnamespace Pipeline.Cli;\npublic static class X;";
        Assert.Contains("never each other", Assert.Single(Layers.Violations("X.cs", cli)));
    }

    [Fact]
    public void A_trainer_folder_using_a_higher_one_is_caught()
    {
        const string weights = """
            using Pipeline.Trainer.Onnx;
            namespace Pipeline.Trainer.Model;
            public static class Weights { public static object Read() => OnnxFile.ReadGraph(""); }
            """;
        Assert.Contains("a folder of the trainer above it", Assert.Single(Layers.Violations("Weights.cs", weights)));
        Assert.Contains("has no place", Assert.Single(Layers.Violations("X.cs", "namespace Pipeline.Trainer.Misc;")));
        Assert.Empty(Layers.Violations("Export.cs", "using Pipeline.Trainer.Model;\nnamespace Pipeline.Trainer.Onnx;"));
    }

    [Fact]
    public void Using_a_lower_layer_is_allowed() =>
        Assert.Empty(Layers.Violations("A.cs",
            "using Pipeline.Core.Contract;\nusing Pipeline.Core.Storage;\nnamespace Pipeline.Core.Training;"));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Pipeline.sln above {AppContext.BaseDirectory}.");
    }
}
