using Pipeline.Core.Contract;

namespace Pipeline.Core.Serving;

/// <summary>What GET /api/datasets/{dataset}/models answers: every complete version, oldest first.</summary>
public sealed record ModelVersionList(string Dataset, string? Promoted, IReadOnlyList<ModelVersionSummary> Versions);

/// <summary>One model version: its test metrics and the files GET .../models/{version}/{file} serves.</summary>
public sealed record ModelVersionSummary(string Version, bool Promoted, DateTimeOffset CreatedAt,
    IReadOnlyList<string> Labels,
    string Device, Metrics Metrics, IReadOnlyList<string> Files);
