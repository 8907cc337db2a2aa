namespace Pipeline.Core.Serving;

/// <summary>A problem (RFC 9457) that says what was wrong and what to do; the HTTP edge writes it as
/// ProblemDetails.</summary>
public sealed record ApiProblem(int Status, string Title, string Detail);

/// <summary>
/// What an endpoint answers, free of any web framework so that the function app and the local host map it the same way:
/// a value of one type with its status, or a problem.
/// </summary>
public readonly record struct ApiResult<T>(T? Value, ApiProblem? Problem, int Status = 200)
{
    public static implicit operator ApiResult<T>(T value) => new(value, null);
    public static implicit operator ApiResult<T>(ApiProblem problem) => new(default, problem, problem.Status);
}

public static class ApiResult
{
    public static ApiResult<T> Ok<T>(T value, int status = 200) => new(value, null, status);

    public static ApiProblem Fail(int status, string title, string detail) => new(status, title, detail);
}

/// <summary>An answer that is a file, not JSON (the report, a model's files); the caller disposes the stream.</summary>
public sealed record ApiFile(Stream Content, string ContentType, string? FileName = null);
