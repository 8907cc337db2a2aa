using System.CommandLine.Parsing;
using System.Globalization;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>How the benchmark's option values are read from their text: the parsers the commands share.</summary>
public static class CommandLineValues
{
    private const StringSplitOptions Parts = StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries;

    /// <summary>"a,b,c": the names in order, blanks left out.</summary>
    public static IReadOnlyList<string> List(ArgumentResult result) =>
        [.. result.Tokens.SelectMany(t => t.Value.Split(',', Parts))];

    /// <summary>"1,2,3" is those seeds; a single "5" means seeds 1 to 5, "0" alone seed 0 (a given split).</summary>
    public static IReadOnlyList<int> Seeds(ArgumentResult result)
    {
        var text = string.Join(',', result.Tokens.Select(t => t.Value));
        var parts = text.Split(',', Parts);
        var seeds = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, CultureInfo.InvariantCulture, out var seed) || seed < 0)
            {
                result.AddError("--seeds takes a count (5 means seeds 1 to 5) or a list of seeds of 0 or more, " +
                    $"not '{part}'.");
                return [];
            }
            seeds.Add(seed);
        }
        if (seeds.Count == 1) return seeds[0] == 0 ? [0] : [.. Enumerable.Range(1, seeds[0])];
        if (seeds.Distinct().Count() != seeds.Count) result.AddError($"--seeds names a seed twice: {text}.");
        return seeds;
    }

    /// <summary>A whole number of at least <paramref name="min"/>, or an error naming the option.</summary>
    public static int Whole(ArgumentResult result, int min)
    {
        var text = result.Tokens.Single().Value;
        if (int.TryParse(text, CultureInfo.InvariantCulture, out var n) && n >= min) return n;
        result.AddError($"{Name(result)} takes a whole number of {min} or more, not '{text}'.");
        return min;
    }

    /// <summary>A number from 0 to below <paramref name="max"/>.</summary>
    public static double Fraction(ArgumentResult result, double max)
    {
        var text = result.Tokens.Single().Value;
        if (double.TryParse(text, CultureInfo.InvariantCulture, out var n) && n >= 0 && n < max) return n;
        result.AddError($"{Name(result)} takes a number from 0 to below {max}, not '{text}'.");
        return 0;
    }

    private static string Name(ArgumentResult result) =>
        result.Parent is OptionResult o ? o.Option.Name : result.Argument.Name;
}
