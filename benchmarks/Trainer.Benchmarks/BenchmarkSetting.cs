using System.CommandLine.Parsing;
using System.Text;
using System.Text.RegularExpressions;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// A named set of extra flags for <c>trainer train</c>: the two built in, or one given as <c>--setting name=flags</c>.
/// </summary>
public sealed partial record BenchmarkSetting(string Name, IReadOnlyList<string> Flags)
{
    public static readonly IReadOnlyList<BenchmarkSetting> BuiltIn = [new("fast", ["--fast"]), new("default", [])];

    /// <summary>Each <c>name=flags</c>, the flags split at spaces as a shell would (quotes keep spaces).</summary>
    public static IReadOnlyList<BenchmarkSetting> Parse(ArgumentResult result)
    {
        var settings = new List<BenchmarkSetting>();
        foreach (var token in result.Tokens.Select(t => t.Value))
        {
            var equals = token.IndexOf('=');
            var name = equals > 0 ? token[..equals].Trim() : "";
            if (!NamePattern().IsMatch(name))
                result.AddError("--setting takes name=flags with a name of letters, digits, '-' or '_', as in " +
                    $"lr3=\"--head-lr 0.003\"; not '{token}'.");
            else if (BuiltIn.Any(s => s.Name == name) || settings.Any(s => s.Name == name))
                result.AddError($"--setting names '{name}' twice (fast and default are built in); " +
                    "give each setting its own name.");
            else
                settings.Add(new BenchmarkSetting(name, Words(token[(equals + 1)..])));
        }
        return settings;
    }

    public override string ToString() => Flags.Count == 0 ? Name : $"{Name} ({string.Join(' ', Flags)})";

    private static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        char? quote = null;
        var inWord = false;
        foreach (var c in text)
        {
            if (quote is not null && c == quote) quote = null;
            else if (quote is null && c is '"' or '\'') { quote = c; inWord = true; }
            else if (quote is null && char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else { word.Append(c); inWord = true; }
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex NamePattern();
}
