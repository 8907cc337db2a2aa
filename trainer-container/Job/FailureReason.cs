namespace Pipeline.Trainer.Job;

/// <summary>
/// The reason a failed job shows the user (dataset status, studio): the first lines of the error, without the native
/// stack that libtorch appends to TorchSharp's messages ("Exception raised from … (most recent call first):" and its
/// frames), cut at <see cref="MaxChars"/>. The trainer's log keeps the whole exception.
/// </summary>
public static class FailureReason
{
    /// <summary>Longest reason shown, the pointer to the log included.</summary>
    public const int MaxChars = 400;

    public const string SeeLog = "(The full error is in the trainer's log.)";

    public static string Of(string message)
    {
        var lines = message.Split('\n').Select(l => l.Trim()).ToList();
        var native = lines.FindIndex(IsNativeStack);
        var kept = (native < 0 ? lines : lines[..native]).Where(l => l.Length > 0).ToList();
        var text = kept.Count > 0 ? string.Join(' ', kept) : "libtorch raised an error.";
        var room = MaxChars - SeeLog.Length - 1;
        if (native < 0 && text.Length <= MaxChars) return text;
        if (text.Length > room) text = text[..(room - 1)].TrimEnd() + "…";
        return $"{text} {SeeLog}";
    }

    // c10::Error's what(): the message, then where it was raised and the frames below it.
    private static bool IsNativeStack(string line) =>
        line.StartsWith("Exception raised from ", StringComparison.Ordinal)
        || line.StartsWith("frame #", StringComparison.Ordinal);
}
