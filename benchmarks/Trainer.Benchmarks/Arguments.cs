using System.Globalization;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>A subcommand's arguments: positionals in order and <c>--name value</c> options (a flag without a value is not used here).</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string> options = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    public Arguments(IEnumerable<string> args, params string[] known)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var arg = e.Current;
            if (!arg.StartsWith("--", StringComparison.Ordinal)) { Positionals.Add(arg); continue; }
            if (!known.Contains(arg)) throw new UsageException($"Unknown option '{arg}'.");
            if (!e.MoveNext()) throw new UsageException($"{arg} needs a value.");
            options[arg] = e.Current;
        }
    }

    public string? Text(string name) => options.GetValueOrDefault(name);

    public string Required(string name) => Text(name) ?? throw new UsageException($"{name} <value> is required.");

    public int? Int(string name, int min = 1) => Text(name) is not { } v ? null
        : int.TryParse(v, CultureInfo.InvariantCulture, out var n) && n >= min ? n : throw new UsageException($"{name} takes a whole number of {min} or more.");

    public double Number(string name, double fallback, double max) => Text(name) is not { } v ? fallback
        : double.TryParse(v, CultureInfo.InvariantCulture, out var n) && n >= 0 && n < max ? n : throw new UsageException($"{name} takes a number from 0 to below {max}.");

    public IReadOnlyList<string> List(string name, string fallback) =>
        (Text(name) ?? fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Bad command-line input: reported as a message and exit code 2, without a stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);
