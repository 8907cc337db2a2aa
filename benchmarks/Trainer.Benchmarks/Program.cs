using Pipeline.Trainer.Benchmarks;

const string usage = """
    Usage: trainer-benchmarks <command> [options]

      split <source> <dest> [--seed 42] [--test 0.2] [--limit <n per label>]
          symlinks dest/train/<label>/ and dest/test/<label>/ to the source's images (a given train/ and test/
          or val/ split is kept; otherwise seeded and stratified); --limit keeps at most n per label on each side
      mlnet --train <folder> --test <folder>
          the ML.NET route (ResNet18 featurizer + L-BFGS maximum entropy); last stdout line is JSON
      run [--datasets hymenoptera,cats-vs-dogs,flowers-small] [--settings fast,default] [--shared <datasets folder>]
          [--out benchmarks/results] [--limit <n per label>]
          the trainer per setting, then the ML.NET route, one child process at a time; prints a Markdown table
          and writes <out>/trainer-<date>.json
    """;

if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
{
    Console.WriteLine(usage);
    return args.Length == 0 ? 2 : 0;
}

try
{
    return args[0] switch
    {
        "split" => DatasetSplit.Command(args.Skip(1)),
        "mlnet" => MlNetRoute.Command(args.Skip(1)),
        "run" => BenchmarkRun.Command(args.Skip(1)),
        _ => throw new UsageException($"Unknown command '{args[0]}'."),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine("Run 'trainer-benchmarks --help' for the commands.");
    return 2;
}
