using System.Text.Json;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Training;

/// <summary>
/// The training message a trainer process holds, kept in a file its host names (the local host's trainer child): when
/// the process dies, the host reads it, records the failed attempt and makes the message visible again at once.
/// </summary>
public sealed record JobLease(string MessageId, string PopReceipt, string Dataset, string JobId, int Attempt)
{
    /// <summary>Replaces the file whole (written aside, then moved), so a reader never sees half a lease.</summary>
    public void Write(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Json.Options));
        File.Move(temp, path, overwrite: true);
    }

    public static JobLease? Read(string path)
    {
        try { return JsonSerializer.Deserialize<JobLease>(File.ReadAllText(path), Json.Options); }
        catch (Exception e) when (e is IOException or JsonException) { return null; }
    }

    public static void Delete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
    }
}
