using Pipeline.Core.Contract;

namespace Pipeline.Core.Serving;

/// <summary>What GET /api/datasets/{dataset}/models answers: every complete version, oldest first, and the published
/// names.</summary>
public sealed record ModelVersionList(string Dataset, string? Promoted, IReadOnlyList<ModelVersionSummary> Versions,
    IReadOnlyList<PublishedNameEntry>? Names = null);

/// <summary>One model version: its test metrics, the files GET .../models/{version}/{file} serves and the names that
/// point to it.</summary>
public sealed record ModelVersionSummary(string Version, bool Promoted, DateTimeOffset CreatedAt,
    IReadOnlyList<string> Labels,
    string Device, Metrics Metrics, IReadOnlyList<string> Files, IReadOnlyList<string>? Names = null);

/// <summary>A published name and the version it points to.</summary>
public sealed record PublishedNameEntry(string Name, string Version, DateTimeOffset PublishedAt)
{
    public static IReadOnlyList<PublishedNameEntry> From(PublishedModels published) =>
        published.Names.OrderBy(n => n.Key, StringComparer.Ordinal)
            .Select(n => new PublishedNameEntry(n.Key, n.Value.Version, n.Value.PublishedAt)).ToList();
}
