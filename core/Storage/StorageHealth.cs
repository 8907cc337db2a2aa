using System.Collections.Concurrent;
using Azure;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>
/// What a host's listeners know about their storage right now: a listing that fails, storage that cannot be reached,
/// uploads that cannot be read. They report here instead of ending the process; GET /api/datasets says it.
/// </summary>
public sealed class StorageHealth
{
    private sealed record Problem(DateTimeOffset Since, string Message, bool Unreachable);

    private readonly ConcurrentDictionary<string, Problem> problems = new();
    private readonly ConcurrentDictionary<string, string> unreadable = new();

    /// <summary>
    /// A connection that failed (refused, reset, DNS, the SDK's retries exhausted on those) rather than an answer.
    /// </summary>
    public static bool IsUnreachable(Exception e) => e switch
    {
        HttpRequestException or System.Net.Sockets.SocketException or IOException => true,
        RequestFailedException { Status: 0 } => true,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(IsUnreachable),
        _ => e.InnerException is { } inner && IsUnreachable(inner),
    };

    /// <summary>
    /// <paramref name="what"/> (e.g. "uploads") failed with <paramref name="e"/>; the time of the first failure is
    /// kept.
    /// </summary>
    public void Failed(string what, Exception e)
    {
        var unreachable = IsUnreachable(e);
        var message = e switch
        {
            RequestFailedException { Status: > 0 } r => $"{r.Status} {r.ErrorCode}: {FirstLine(r.Message)}",
            // Azurite answers a listing with 500 and no body when a blob name holds a control character such as 0x01.
            System.Xml.XmlException x
                => $"the answer to the listing cannot be read ({x.Message}); a blob name holding a control " +
                "character (such as 0x01) makes Azurite answer so: delete that blob",
            _ => FirstLine(Innermost(e).Message),
        };
        problems.AddOrUpdate(what, _ => new Problem(DateTimeOffset.UtcNow, message, unreachable),
            (_, old) => old with
            {
                Message = message,
                Unreachable = unreachable,
                Since = old.Unreachable == unreachable ? old.Since : DateTimeOffset.UtcNow
            });
    }

    public void Succeeded(string what) => problems.TryRemove(what, out _);

    /// <summary>An upload that neither split nor a rejection record could handle.</summary>
    public void Unreadable(string? dataset, string upload) => unreadable[upload] = dataset ?? "";

    /// <summary>The first time storage could not be reached, while it still cannot.</summary>
    public DateTimeOffset? UnreachableSince =>
        problems.Values.Where(p => p.Unreachable).Select(p => (DateTimeOffset?)p.Since).Min();

    /// <summary>Sentences for GET /api/datasets, e.g. "uploads cannot be listed since ...: 500 ...".</summary>
    public IReadOnlyList<string> Describe()
    {
        var lines = problems.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value.Unreachable
            ? $"storage unreachable since {p.Value.Since:u} ({p.Key}): {p.Value.Message}"
            : $"{p.Key} cannot be listed since {p.Value.Since:u}: {p.Value.Message}").ToList();
        foreach (var group in unreadable.GroupBy(u => u.Value).OrderBy(g => g.Key, StringComparer.Ordinal))
            lines.Add($"{group.Count()} unreadable uploads{(group.Key == "" ? "" : $" in {group.Key}")}: " +
                string.Join(", ", group.Take(5).Select(u => Names.Shown(u.Key))));
        return lines;
    }

    private static Exception Innermost(Exception e)
        => e is AggregateException { InnerExceptions.Count: > 0 } a ? Innermost(a.InnerExceptions[^1])
        : e.InnerException is { } inner && e is not RequestFailedException ? Innermost(inner) : e;

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
