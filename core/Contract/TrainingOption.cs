using System.Globalization;

namespace Pipeline.Core.Contract;

/// <summary> One training option as a user sets it: its command-line flag, its JSON name, its help, its value's type,
/// how to read and set it on <see cref="TrainingOptions"/>, and its rule. <see cref="TrainingOptions.All"/> lists them;
/// the trainer's flags and help, and <see cref="TrainingOptions.Validate"/>, are made from that list.
/// </summary>
public sealed record TrainingOption(
    string Flag,
    string Json,
    string ValueName,
    string Help,
    Type Type,
    Func<TrainingOptions, object> Read,
    Func<TrainingOptions, object, TrainingOptions> Write,
    Func<object, string?> Check)
{
    /// <summary>A flag without a value that turns a default-on switch off (<c>--no-...</c>).</summary>
    public bool IsSwitchOff => Type == typeof(bool);

    /// <summary>How help shows a default that is no value of the option's type (e.g. "cross-validated").</summary>
    public string? DefaultText { get; init; }

    /// <summary>The value <c>{}</c> gives, as help shows it.</summary>
    public string Default => DefaultText ?? Read(new TrainingOptions()) switch
    {
        double d => d.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "on" : "off",
        var v => v.ToString() ?? "",
    };

    /// <summary>Null when <paramref name="options"/> holds a valid value for this option, else what is wrong and what
    /// is allowed.</summary>
    public string? Problem(TrainingOptions options) =>
        Check(Read(options)) is { } rule ? $"{Json} ({Flag}) {rule}, not {Shown(Read(options))}." : null;

    private static string Shown(object value) => value switch
    {
        double d => d.ToString(CultureInfo.InvariantCulture),
        string s => $"'{s}'",
        var v => v.ToString() ?? "",
    };

    public static TrainingOption Int(string flag, string json, string help, Func<TrainingOptions, int> get,
        Func<TrainingOptions, int, TrainingOptions> set, int min, int max = int.MaxValue, string valueName = "n") =>
        new(flag, json, valueName, help, typeof(int), o => get(o), (o, v) => set(o, (int)v),
            v => (int)v >= min && (int)v <= max ? null
                : max == int.MaxValue ? $"must be a whole number of at least {min}"
                    : $"must be a whole number from {min} to {max}");

    /// <summary>A number in [<paramref name="min"/>, <paramref name="below"/>), or above 0 when
    /// <paramref name="positive"/>.</summary>
    public static TrainingOption Real(string flag, string json, string help, Func<TrainingOptions, double> get,
        Func<TrainingOptions, double, TrainingOptions> set, string valueName, double below = double.PositiveInfinity,
        bool positive = false) =>
        new(flag, json, valueName, help, typeof(double), o => get(o), (o, v) => set(o, (double)v), v =>
        {
            var x = (double)v;
            var low = positive ? x > 0 : x >= 0;
            if (low && x < below && double.IsFinite(x)) return null;
            var from = positive ? "above 0" : "at least 0";
            return double.IsPositiveInfinity(below) ? $"must be {from}"
                : $"must be {from} and below {below.ToString(CultureInfo.InvariantCulture)}";
        });

    /// <summary>A number that may be left unset (null): <paramref name="unset"/> says what unset means.</summary>
    public static TrainingOption OptionalReal(string flag, string json, string help, Func<TrainingOptions, double?> get,
        Func<TrainingOptions, double, TrainingOptions> set, string valueName, string unset, bool positive = false)
    {
        var rule = Real(flag, json, help, o => get(o) ?? 0, set, valueName, positive: positive);
        return rule with { Read = o => get(o)!, Check = v => v is null ? null : rule.Check(v), DefaultText = unset };
    }

    public static TrainingOption Choice(string flag, string json, string help, Func<TrainingOptions, string> get,
        Func<TrainingOptions, string, TrainingOptions> set, params string[] choices) =>
        new(flag, json, string.Join('|', choices), help, typeof(string), o => get(o), (o, v) => set(o, (string)v),
            v => choices.Contains((string)v) ? null : $"must be one of {string.Join(", ", choices)}");

    /// <summary>A flag without a value that sets an option whose default is unset (<paramref name="unset"/> says what
    /// that means).</summary>
    public static TrainingOption Switch(string flag, string json, string help, Func<TrainingOptions, bool?> get,
        Func<TrainingOptions, TrainingOptions> apply, string unset) =>
        new(flag, json, "", help, typeof(bool), o => get(o)!, (o, v) => (bool)v ? apply(o) : o,
            _ => null)
        { DefaultText = unset };

    /// <summary><c>--no-...</c>: turns off a switch that is on by default.</summary>
    public static TrainingOption SwitchOff(string flag, string json, string help, Func<TrainingOptions, bool> get,
        Func<TrainingOptions, TrainingOptions> turnOff) =>
        new(flag, json, "", help, typeof(bool), o => get(o), (o, v) => (bool)v ? turnOff(o) : o, _ => null);
}
