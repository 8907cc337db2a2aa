namespace Pipeline.Cli;

/// <summary>Where the command line writes: results to <see cref="Out"/>, progress and errors to <see cref="Error"/>.
/// Tests pass their own writers.</summary>
/// <param name="Interactive">A terminal: progress redraws one line; otherwise it prints a line now and then.</param>
public sealed record CliConsole(TextWriter Out, TextWriter Error, bool Interactive)
{
    public static CliConsole System => new(Console.Out, Console.Error, !Console.IsErrorRedirected);
}
