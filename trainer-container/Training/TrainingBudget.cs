using System.Diagnostics;

namespace Pipeline.Trainer.Training;

/// <summary>
/// The time a run may take to a model (Custom Vision's training budget): each optional step asks whether its estimate
/// fits what is left, and what does not fit is named in model.json instead of being done.
/// </summary>
public sealed class TrainingBudget(double? minutes, Stopwatch clock)
{
    private readonly List<string> leftOut = [];

    public IReadOnlyList<string> LeftOut => leftOut;

    public double? SecondsLeft => minutes is { } m ? m * 60 - clock.Elapsed.TotalSeconds : null;

    public bool Fits(double seconds) => SecondsLeft is not { } left || seconds <= left;

    public void Leave(string what) => leftOut.Add(what);
}
