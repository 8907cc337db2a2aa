using System.CommandLine;
using Pipeline.Core.Contract;

namespace Pipeline.Trainer.Cli;

/// <summary>
/// One command-line option per entry of <see cref="TrainingOptions.All"/>: its flag, value name, help and default come
/// from the entry, so a new training option gets its flag by being listed there.
/// </summary>
public sealed class TrainingOptionFlags
{
    private readonly List<(TrainingOption Entry, Option Flag)> flags = [];

    public TrainingOptionFlags()
    {
        foreach (var entry in TrainingOptions.All) flags.Add((entry, Create(entry)));
    }

    public IEnumerable<Option> Options => flags.Select(f => f.Flag);

    /// <summary><paramref name="baseline"/> with every flag the user gave, in the list's order.</summary>
    public TrainingOptions Apply(ParseResult parse, TrainingOptions baseline)
    {
        var options = baseline;
        foreach (var (entry, flag) in flags)
            if (parse.GetResult(flag) is { Implicit: false } given && Value(given, entry.Type) is { } value)
                options = entry.Write(options, value);
        return options;
    }

    private static object? Value(System.CommandLine.Parsing.OptionResult given, Type type) =>
        type == typeof(int) ? given.GetValueOrDefault<int>()
        : type == typeof(double) ? given.GetValueOrDefault<double>()
        : type == typeof(bool) ? true
        : given.GetValueOrDefault<string>();

    private static Option Create(TrainingOption entry)
    {
        var defaults = entry.Read(new TrainingOptions());
        if (entry.Type != typeof(bool) && entry.DefaultText is { } shown)
        {
            // No value of the option's type stands for its default (a null option): help says it in words.
            var help = $"{entry.Help} [default: {shown}]";
            return entry.Type == typeof(int)
                ? new Option<int>(entry.Flag) { Description = help, HelpName = entry.ValueName }
                : new Option<double>(entry.Flag) { Description = help, HelpName = entry.ValueName };
        }
        if (entry.Type == typeof(int))
            return new Option<int>(entry.Flag)
            {
                Description = entry.Help, HelpName = entry.ValueName,
                DefaultValueFactory = _ => (int)defaults
            };
        if (entry.Type == typeof(double))
            return new Option<double>(entry.Flag)
            {
                Description = entry.Help, HelpName = entry.ValueName,
                DefaultValueFactory = _ => (double)defaults
            };
        if (entry.Type == typeof(bool)) return new Option<bool>(entry.Flag)
        {
            Description = entry.Help,
            Arity = ArgumentArity.Zero
        };
        var text = new Option<string>(entry.Flag)
        {
            Description = entry.Help, HelpName = entry.ValueName,
            DefaultValueFactory = _ => (string)defaults
        };
        text.CompletionSources.Add(entry.ValueName.Split('|'));
        return text;
    }
}
