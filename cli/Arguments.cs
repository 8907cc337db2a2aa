using System.Globalization;

namespace Pipeline.Cli;

/// <summary>A command's arguments: positional values, <c>--name value</c> options and <c>--flag</c>s, each read once, the rest refused.</summary>
public sealed class Arguments
{
    private readonly List<string> positional = [];
    private readonly Dictionary<string, string?> options = new(StringComparer.Ordinal);
    private readonly HashSet<string> used = new(StringComparer.Ordinal);

    /// <param name="flags">Options that take no value.</param>
    public Arguments(IEnumerable<string> args, params string[] flags)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var arg = list[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--") { positional.Add(arg); continue; }
            var equals = arg.IndexOf('=');
            if (equals > 0) { options[arg[..equals]] = arg[(equals + 1)..]; continue; }
            if (flags.Contains(arg)) { options[arg] = null; continue; }
            if (i + 1 >= list.Count) throw new CliException(ExitCodes.Usage, $"{arg} needs a value.");
            options[arg] = list[++i];
        }
    }

    public string? Positional(int index) => index < positional.Count ? positional[index] : null;

    public string Required(int index, string what) =>
        Positional(index) ?? throw new CliException(ExitCodes.Usage, $"Missing {what}.");

    public string? Option(string name)
    {
        used.Add(name);
        return options.TryGetValue(name, out var value) ? value : null;
    }

    public string RequiredOption(string name, string what) =>
        Option(name) ?? throw new CliException(ExitCodes.Usage, $"{name} <{what}> is required.");

    public bool Flag(string name)
    {
        used.Add(name);
        return options.ContainsKey(name);
    }

    public int? Int(string name, int min = 0)
    {
        if (Option(name) is not { } text) return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min
            ? value
            : throw new CliException(ExitCodes.Usage, $"{name} takes a whole number of at least {min}, not '{text}'.");
    }

    /// <summary>Refuses options nobody read and positional values beyond <paramref name="positionals"/>.</summary>
    public void Done(int positionals)
    {
        if (options.Keys.FirstOrDefault(k => !used.Contains(k)) is { } unknown) throw new CliException(ExitCodes.Usage, $"Unknown option '{unknown}'.");
        if (positional.Count > positionals) throw new CliException(ExitCodes.Usage, $"Unexpected argument '{positional[positionals]}'.");
    }
}
