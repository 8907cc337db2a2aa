using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Pipeline.Core.Contract;

/// <summary>
/// The pipeline's one ActivitySource and Meter (both named <see cref="Name"/>), and the W3C traceparent that carries a
/// dataset run's trace through the queues: split, dispatch, the trainer's stages and promotion share one trace id.
/// </summary>
public static class Telemetry
{
    public const string Name = "Pipeline";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    /// <summary>Milliseconds a scoring request took, by dataset and model version.</summary>
    public static readonly Histogram<double> ScoreDuration = Meter.CreateHistogram<double>("pipeline.score.duration",
        "ms", "Time to score one request: decode, preprocess and run the model.");

    public static readonly Counter<long> UploadsSorted = Meter.CreateCounter<long>("pipeline.uploads.sorted",
        description: "Uploads split into train or test, rejected or taken as a control blob, by result.");

    public static readonly Counter<long> JobsFinished = Meter.CreateCounter<long>("pipeline.jobs.finished",
        description: "Training jobs the trainer finished, by state and whether the version was promoted.");

    /// <summary>Tag names shared by the spans and metrics.</summary>
    public const string DatasetTag = "pipeline.dataset";
    public const string JobTag = "pipeline.job_id";
    public const string ModelVersionTag = "pipeline.model_version";

    /// <summary>The current span as a W3C traceparent, for a message that continues the trace elsewhere.</summary>
    public static string? TraceParent => Activity.Current is { } a && a.IdFormat == ActivityIdFormat.W3C ? a.Id : null;

    /// <summary>The current span's trace id (32 hex digits): training.json keeps it, to find a run's spans.</summary>
    public static string? TraceId =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } a ? a.TraceId.ToHexString() : null;

    /// <summary>
    /// A span that starts a trace of its own, linked to the current span: a run set off by the end of another is
    /// related to it, not a part of it. It leaves no span current when it ends, so call it in an async method (whose
    /// change of the current span ends with it).
    /// </summary>
    public static Activity? StartLinked(string name, ActivityKind kind = ActivityKind.Internal)
    {
        var cause = Activity.Current;
        if (cause is null) return Source.StartActivity(name, kind);
        Activity.Current = null; // else the cause would be its parent
        var span = Source.StartActivity(name, kind, default(ActivityContext), links: [new ActivityLink(cause.Context)]);
        if (span is null) Activity.Current = cause;
        return span;
    }

    /// <summary>
    /// A span continuing the trace of <paramref name="traceParent"/> (from a message), or of the current span when
    /// the message carried none or an unreadable one.
    /// </summary>
    public static Activity? StartFrom(string name, string? traceParent, ActivityKind kind = ActivityKind.Consumer) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);
}
