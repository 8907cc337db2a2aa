namespace Pipeline.Core.Contract;

/// <summary>A refused upload and why (<c>rejected/&lt;dataset&gt;/&lt;hash&gt;.json</c>); the upload stays where it was
/// put.</summary>
public sealed record RejectedUpload(string Path, string Reason, long Bytes, DateTimeOffset RejectedAt);
