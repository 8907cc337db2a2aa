namespace Pipeline.Core.Serving;

/// <summary>
/// What an endpoint answers, free of any web framework so that the function app and the local host map it the same way:
/// a value with a status, or a problem (RFC 9457) that says what was wrong and what to do.
/// </summary>
public sealed record ApiResult(int Status, object? Value, ApiProblem? Problem)
{
    public static ApiResult Ok(object value, int status = 200) => new(status, value, null);
    public static ApiResult Fail(int status, string title, string detail) => new(status, null, new ApiProblem(status, title, detail));
}

public sealed record ApiProblem(int Status, string Title, string Detail);
