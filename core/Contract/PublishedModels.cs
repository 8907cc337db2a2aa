namespace Pipeline.Core.Contract;

/// <summary>
/// published.json, one per dataset in the models container: the names (as Custom Vision's published iterations) that
/// point at model versions. One blob, changed under its ETag, so a rollback is one atomic write.
/// </summary>
public sealed record PublishedModels(string Dataset, IReadOnlyDictionary<string, PublishedName> Names)
{
    public static PublishedModels Empty(string dataset) => new(dataset, new Dictionary<string, PublishedName>());

    /// <summary>The names, sorted, as "name → version" for messages.</summary>
    public string Describe() => Names.Count == 0 ? "none"
        : string.Join(", ", Names.OrderBy(n => n.Key, StringComparer.Ordinal)
            .Select(n => $"'{n.Key}' → {n.Value.Version}"));
}

/// <summary>Where one published name points, and since when.</summary>
public sealed record PublishedName(string Version, DateTimeOffset PublishedAt);

public static class PublishedNameRules
{
    public const int MaxLength = 64;

    /// <summary>Null when <paramref name="name"/> can be published under, else the reason it cannot.</summary>
    public static string? Check(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "The published name is empty: give one such as \"production\".";
        if (name.Length > MaxLength)
            return $"The published name '{Names.Shown(name)}' is {name.Length} characters; at most {MaxLength} are " +
                "allowed.";
        if (!char.IsAsciiLetterOrDigit(name[0]))
            return $"The published name '{Names.Shown(name)}' must start with a letter or digit.";
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            return $"The published name '{Names.Shown(name)}' may hold only letters a-z and A-Z, digits, '-', '_' " +
                "and '.'.";
        return null;
    }
}
