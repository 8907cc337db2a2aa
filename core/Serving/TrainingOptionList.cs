using Pipeline.Core.Contract;

namespace Pipeline.Core.Serving;

/// <summary>
/// One training option as a form shows it, made from <see cref="TrainingOptions.All"/> (the list the trainer's help
/// is made from): <c>type</c> is <c>integer</c>, <c>number</c>, <c>choice</c> (with <c>choices</c>) or
/// <c>switch</c> (a flag that sets <c>value</c>).
/// </summary>
public sealed record TrainingOptionEntry(string Json, string Flag, string Help, string Type, string Default,
    IReadOnlyList<string>? Choices = null, bool? Value = null, string? ValueName = null);

/// <summary>GET /api/training/options: every option, and the options of the fast setting.</summary>
public sealed record TrainingOptionList(IReadOnlyList<TrainingOptionEntry> Options, TrainingOptions Fast,
    TrainingOptions Default)
{
    public static TrainingOptionList Describe() => new(TrainingOptions.All.Select(Entry).ToList(),
        TrainingOptions.Fast, new TrainingOptions());

    private static TrainingOptionEntry Entry(TrainingOption option)
    {
        if (option.Type == typeof(bool))
        {
            // A switch sets its JSON value: --no-x sets false, a plain one (its default unset) true.
            var value = option.Write(new TrainingOptions(), true) is var set
                && option.Read(set) is bool after ? after : true;
            return new(option.Json, option.Flag, option.Help, "switch", option.Default, Value: value);
        }
        if (option.Type == typeof(string))
            return new(option.Json, option.Flag, option.Help, "choice", option.Default, option.ValueName.Split('|'));
        return new(option.Json, option.Flag, option.Help, option.Type == typeof(int) ? "integer" : "number",
            option.Default, ValueName: option.ValueName);
    }
}
