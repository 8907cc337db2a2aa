using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Serving;

/// <summary>The body of POST /api/datasets/{dataset}/models/{version}/publish.</summary>
public sealed record PublishRequest(string? Name);

/// <summary>What publishing or unpublishing answers: the name, the version it now points to (null once unpublished),
/// the one it pointed to before, and every published name of the dataset.</summary>
public sealed record PublishResponse(string Dataset, string Name, string? Version, string? Previous,
    IReadOnlyList<PublishedNameEntry> Names);

/// <summary>
/// Published names, as Custom Vision publishes iterations: a name points to one version; publishing another version
/// under it is a rollback (or roll forward), one ETag-guarded write that scoring picks up within its refresh period.
/// </summary>
public sealed class PublishApi(ModelStore versions, PublishedNameStore names)
{
    /// <summary>Body: <c>{"name":"production"}</c>. Points the name at <paramref name="version"/>.</summary>
    public async Task<ApiResult<PublishResponse>> PublishAsync(string dataset, string version, string body,
        CancellationToken ct)
    {
        if (Check(dataset, version) is { } bad) return bad;
        PublishRequest? request;
        try
        {
            request = string.IsNullOrWhiteSpace(body) ? null
                : JsonSerializer.Deserialize<PublishRequest>(body, Json.Options);
        }
        catch (JsonException e)
        {
            return ApiResult.Fail(400, "Invalid body", $"The body is not JSON ({e.Message.Split('.')[0]}). " +
                "Send {\"name\":\"production\"}.");
        }
        if (request?.Name is not { } name)
            return ApiResult.Fail(400, "No name", "Send the name to publish under as {\"name\":\"production\"}.");
        if (PublishedNameRules.Check(name) is { } badName) return ApiResult.Fail(400, "Invalid name", badName);
        if (!await versions.ExistsAsync(dataset, version, ct)) return NoVersion(dataset, version);

        var entry = new PublishedName(version, DateTimeOffset.UtcNow);
        var (before, after) = await names.UpdateAsync(dataset, current =>
            current.Names.GetValueOrDefault(name)?.Version == version ? null : With(current, name, entry), ct);
        // Retention may have removed the version between the look and the write: then the name goes back.
        if (!await versions.ExistsAsync(dataset, version, ct))
        {
            await names.UpdateAsync(dataset, current => current.Names.GetValueOrDefault(name) != entry ? null
                : before.Names.GetValueOrDefault(name) is { } old ? With(current, name, old) : Without(current, name),
                ct);
            return NoVersion(dataset, version);
        }
        return new PublishResponse(dataset, name, version, before.Names.GetValueOrDefault(name)?.Version,
            PublishedNameEntry.From(after));
    }

    /// <summary>Removes the name, if it points to <paramref name="version"/>.</summary>
    public async Task<ApiResult<PublishResponse>> UnpublishAsync(string dataset, string version, string name,
        CancellationToken ct)
    {
        if (Check(dataset, version) is { } bad) return bad;
        if (PublishedNameRules.Check(name) is { } badName) return ApiResult.Fail(400, "Invalid name", badName);
        string? pointsTo = null;
        var (before, after) = await names.UpdateAsync(dataset, current =>
        {
            pointsTo = current.Names.GetValueOrDefault(name)?.Version;
            return pointsTo == version ? Without(current, name) : null;
        }, ct);
        if (pointsTo is null)
            return ApiResult.Fail(404, "Unknown published name",
                $"Dataset '{dataset}' has no model published as '{name}'. Published names: {before.Describe()}.");
        if (pointsTo != version)
            return ApiResult.Fail(409, "Name points to another version",
                $"'{name}' of dataset '{dataset}' points to version {pointsTo}, not {version}. Unpublish it with " +
                $"DELETE /api/datasets/{dataset}/models/{pointsTo}/publish/{name}, or publish another version " +
                "under it.");
        return new PublishResponse(dataset, name, null, version, PublishedNameEntry.From(after));
    }

    private static ApiProblem? Check(string dataset, string version)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (!ModelFiles.IsVersion(version))
            return ApiResult.Fail(400, "Invalid version", "A version is a name such as 20261128-180512-3fa2c1.");
        return null;
    }

    private static ApiProblem NoVersion(string dataset, string version) =>
        ApiResult.Fail(404, "No such version",
            $"Dataset '{dataset}' has no model version '{version}'. GET /api/datasets/{dataset}/models lists them.");

    private static PublishedModels With(PublishedModels current, string name, PublishedName entry) =>
        current with { Names = new Dictionary<string, PublishedName>(current.Names) { [name] = entry } };

    private static PublishedModels Without(PublishedModels current, string name) =>
        current with
        {
            Names = current.Names.Where(n => n.Key != name).ToDictionary(n => n.Key, n => n.Value)
        };
}
