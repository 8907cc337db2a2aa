using System.CommandLine;

namespace Pipeline.Trainer.Benchmarks;

/// <summary><c>run</c>'s command line: what it runs, on what, where the rows go.</summary>
public static partial class BenchmarkRun
{
    public static Command CreateCommand()
    {
        var datasets = new Option<IReadOnlyList<string>>("--datasets")
        {
            Description = "Datasets in the shared folder, comma-separated",
            HelpName = "a,b,...",
            DefaultValueFactory = _ => AllDatasets,
            CustomParser = CommandLineValues.List,
        };
        var seeds = new Option<IReadOnlyList<int>>("--seeds")
        {
            Description = "Seeded splits: a list (0,1,2) or a count (5 means 1 to 5); seed 0 keeps a dataset's given " +
                "train/test split (0 alone: only that)",
            DefaultValueFactory = _ => [1, 2, 3, 4, 5],
            HelpName = "list|count",
            CustomParser = CommandLineValues.Seeds,
        };
        var settingNames = new Option<IReadOnlyList<string>?>("--settings")
        {
            Description = "Trainer settings to run, in order: fast, default and names given with --setting " +
                "[default: fast,default, then every --setting]",
            CustomParser = CommandLineValues.List,
            HelpName = "a,b,...",
        };
        var extra = new Option<IReadOnlyList<BenchmarkSetting>>("--setting")
        {
            Description = "A named setting of extra trainer flags, repeatable: --setting lr3=\"--head-lr 0.003\"",
            DefaultValueFactory = _ => [],
            CustomParser = BenchmarkSetting.Parse,
            Arity = ArgumentArity.ZeroOrMore,
            HelpName = "name=flags",
        };
        var shared = new Option<string?>("--shared")
        {
            Description = "The datasets folder [default: ../shared/datasets beside the repository]",
            HelpName = "folder",
        };
        var output = new Option<string?>("--out")
        {
            Description = "Folder for the results file [default: benchmarks/results]",
            HelpName = "folder",
        };
        var limit = DatasetSplit.LimitOption();
        var timeout = new Option<int>("--timeout-minutes")
        {
            Description = "Kill a child run after this many minutes and record it as failed",
            DefaultValueFactory = _ => 60,
            HelpName = "minutes",
            CustomParser = r => CommandLineValues.Whole(r, 1),
        };
        var command = new Command("run", "Per dataset and seeded split: the ML.NET route, then the trainer at each " +
                    "setting, one child process at a time; prints the runs and their summary as Markdown and writes " +
                    "<out>/trainer-<date>.json")
        {
            datasets, seeds, settingNames, extra, shared, output, limit, timeout,
        };
        command.SetAction(parse =>
        {
            var repo = RepoRoot();
            var defined = BenchmarkSetting.BuiltIn.Concat(parse.GetRequiredValue(extra)).ToList();
            var chosen = parse.GetValue(settingNames) ?? [.. defined.Select(s => s.Name)];
            foreach (var name in chosen.Where(n => defined.All(s => s.Name != n)))
                throw new UsageException(
                    $"Unknown setting '{name}'; use fast, default or a name given with --setting name=flags.");
            var datasetsFolder = DatasetsFolder(parse.GetValue(shared), repo);
            var names = parse.GetRequiredValue(datasets);
            foreach (var d in names.Where(d => !Directory.Exists(Path.Combine(datasetsFolder, d))))
                throw new UsageException($"No dataset '{d}' in {datasetsFolder}.");
            var outFolder = parse.GetValue(output) is { } o
                ? Path.GetFullPath(o)
                : Path.Combine(repo, "benchmarks", "results");
            var settings = chosen.Select(n => defined.First(s => s.Name == n)).ToList();
            return Execute(new Plan(datasetsFolder, names, parse.GetRequiredValue(seeds), settings,
                parse.GetValue(limit),
                TimeSpan.FromMinutes(parse.GetValue(timeout)), TrainerDll(repo),
                Path.Combine(outFolder, $"trainer-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json")));
        });
        return command;
    }

    /// <summary>The folder holding Pipeline.sln, found by walking up from the current directory.</summary>
    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new UsageException("Run this inside the repository: no folder above the current one holds Pipeline.sln.");
    }

    /// <summary>
    /// The datasets live beside the repository in ../shared/datasets; --shared names that folder or the shared/
    /// above it.
    /// </summary>
    internal static string DatasetsFolder(string? given, string repo)
    {
        var folder = Path.GetFullPath(given ?? Path.Combine(repo, "..", "shared", "datasets"));
        if (given is not null && Directory.Exists(Path.Combine(folder, "datasets")))
            folder = Path.Combine(folder, "datasets");
        if (!Directory.Exists(folder))
            throw new UsageException($"The datasets folder '{folder}' does not exist. The benchmark reads " +
                "from ../shared/datasets beside the repository (or give --shared <path>).");
        return folder;
    }

    /// <summary>The trainer's Release build, built once if it is missing.</summary>
    internal static string TrainerDll(string repo)
    {
        var dll = Path.Combine(repo, "trainer-container", "bin", "Release", "net10.0", "trainer.dll");
        if (File.Exists(dll)) return dll;
        Console.Error.WriteLine($"{dll} is missing; building the trainer in Release.");
        var build = ChildRun.Run("dotnet", ["build", Path.Combine(repo, "trainer-container"), "-c", "Release"],
            "build");
        if (build.ExitCode != 0 || !File.Exists(dll))
            throw new InvalidOperationException($"Building the trainer failed (exit {build.ExitCode}).");
        return dll;
    }
}
