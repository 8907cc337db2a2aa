namespace Pipeline.Cli;

/// <summary>The command line's exit codes (README, "Report and command line").</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The operation ran and failed: training failed, the server answered with an error.</summary>
    public const int Failed = 1;
    /// <summary>Bad arguments: unknown command or option, a path that does not exist, an invalid dataset
    /// name.</summary>
    public const int Usage = 2;
    /// <summary>Storage or the API cannot be reached, or refused our credentials.</summary>
    public const int Unreachable = 3;
    /// <summary>No such dataset, version, model or report.</summary>
    public const int NotFound = 4;
    /// <summary>Stopped with Ctrl+C.</summary>
    public const int Interrupted = 130;
}

/// <summary>An error meant for the user: the message says what is wrong and what to do; the code is the exit
/// code.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode => exitCode;
}
