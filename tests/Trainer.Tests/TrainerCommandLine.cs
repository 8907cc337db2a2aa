using System.Diagnostics;
using System.Text.Json;

namespace Pipeline.Trainer.Tests;

/// <summary>Runs the trainer's command line as a user would: a child process, its exit code, standard output and
/// error.</summary>
public static class TrainerCommandLine
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string[] Lines => Output.Split('\n',
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        public JsonElement Summary => JsonDocument.Parse(Lines[^1]).RootElement;
    }

    public static Result Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "trainer.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        { process.Kill(true); throw new TimeoutException("trainer did not finish in 10 minutes"); }
        return new Result(process.ExitCode, output, error.Result);
    }
}
