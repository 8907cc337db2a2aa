using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Pipeline.Local;

/// <summary>
/// Scoring runs at most <see cref="LocalOptions.ScoreConcurrency"/> requests at a time with a short queue; beyond that
/// it
/// answers 503 with Retry-After at once, so a burst sheds load instead of queueing every caller for seconds.
/// </summary>
public static class ScoreLimits
{
    /// <summary>Our scoring routes and Custom Vision's Prediction API (path segments match ignoring case).</summary>
    public static bool IsScoring(PathString path) =>
        path.StartsWithSegments("/api/score") || path.StartsWithSegments("/api/customvision");

    public static IServiceCollection AddScoreLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var concurrency = Math.Max(1, configuration.GetValue("Local:ScoreConcurrency", Environment.ProcessorCount));
        var queue = Math.Max(0, configuration.GetValue("Local:ScoreQueue", 2 * concurrency));
        return services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                // Custom Vision's Prediction API scores too: the same permits (path segments match ignoring case).
                IsScoring(context.Request.Path)
                    ? RateLimitPartition.GetConcurrencyLimiter("score", _ => new ConcurrencyLimiterOptions
                    {
                        PermitLimit = concurrency, QueueLimit = queue,
                        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                    })
                    : RateLimitPartition.GetNoLimiter("other"));
            limiter.OnRejected = async (rejected, ct) =>
            {
                var response = rejected.HttpContext.Response;
                response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                response.Headers.RetryAfter = "1";
                await Results.Problem(statusCode: 503, title: "Too busy",
                        detail: $"{concurrency} scoring requests are running and {queue} are waiting; try again in " +
                            $"a second (Retry-After).")
                    .ExecuteAsync(rejected.HttpContext);
            };
        });
    }
}
