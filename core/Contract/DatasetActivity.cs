namespace Pipeline.Core.Contract;

/// <summary>
/// A dataset's upload activity (<c>models/&lt;dataset&gt;/activity.json</c>, <see cref="BlobPaths.Activity"/>),
/// changed only under its ETag: when the last image arrived, the one settle check that is pending, and the accepted
/// image blobs per label as the split wrote them (each settle check recounts them from its one listing). It makes the
/// settle check and GET /api/datasets cost the same however many images the dataset has.
/// </summary>
public sealed record DatasetActivity
{
    public DateTimeOffset LastImageAt { get; init; }

    /// <summary>When the dataset's one pending settle check comes due; null when none is pending.</summary>
    public DateTimeOffset? CheckDueAt { get; init; }

    /// <summary>Accepted image blobs (train and test) per label.</summary>
    public IReadOnlyDictionary<string, int> Labels { get; init; } = new Dictionary<string, int>();

    /// <summary>When <see cref="Labels"/> was last recounted from a listing (null: only counted by the
    /// split).</summary>
    public DateTimeOffset? CountedAt { get; init; }

    /// <summary>
    /// When the last rejection of one of the dataset's uploads was recorded; null: none ever was since the blob was
    /// written, so a split image has no old rejection to clear (one read a batch instead of a delete an image).
    /// </summary>
    public DateTimeOffset? LastRejectionAt { get; init; }

    /// <summary>
    /// A pending check that is this long past due is taken as lost (its message expired or was never sent): the next
    /// image schedules a new one.
    /// </summary>
    public static readonly TimeSpan LostCheckAfter = TimeSpan.FromMinutes(10);
}
