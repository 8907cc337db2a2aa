using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Core.Contract;

/// <summary>
/// models/&lt;dataset&gt;/project.json: the dataset's identity as a Custom Vision project. The project id is made once
/// (or kept from the Custom Vision project it was imported from, so clients keep their URL) and never changes; the
/// tag ids are name-based unless the import kept the project's own.
/// </summary>
public sealed record DatasetProject(Guid ProjectId, IReadOnlyDictionary<string, Guid>? Tags = null)
{
    /// <summary>A label's tag id: the imported one, else one derived from the project and the label.</summary>
    public Guid TagId(string label) =>
        Tags?.TryGetValue(label, out var id) == true ? id : NameGuid.Create(ProjectId, "tag:" + label);

    /// <summary>A model version's iteration id, derived from the project and the version.</summary>
    public Guid IterationId(string version) => NameGuid.Create(ProjectId, "iteration:" + version);
}

/// <summary>Name-based GUIDs (RFC 9562 version 5): the same namespace and name always give the same id.</summary>
public static class NameGuid
{
    public static Guid Create(Guid space, string name)
    {
        var bytes = new byte[16 + Encoding.UTF8.GetByteCount(name)];
        space.TryWriteBytes(bytes, bigEndian: true, out _);
        Encoding.UTF8.GetBytes(name, bytes.AsSpan(16));
        // SHA-1 is what version 5 is defined with; it names, it does not protect.
#pragma warning disable CA5350
        var hash = SHA1.HashData(bytes);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
