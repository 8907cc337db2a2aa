using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using Pipeline.Core.Training;
using Pipeline.Tests.Otlp;
using Xunit;
using Xunit.Abstractions;

namespace Pipeline.Tests;

/// <summary>
/// One dataset run is one trace: the split of an upload, the settle check it queued, the dispatch, the trainer's job,
/// its stages and the promotion; training.json names it; a request that waited for the run ("next") starts a trace of
/// its own, linked to it. The host's spans are caught in memory (in-memory exporter, in this process); the
/// trainer, a child process, sends its own over OTLP to the fixture's receiver.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class TelemetryTests(PipelineFixture pipeline, ITestOutputHelper output)
{
    [Fact]
    public async Task A_dataset_run_is_one_trace_from_split_to_promotion()
    {
        var hostSpans = new SpanList();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(Telemetry.Name)
            .AddInMemoryExporter(hostSpans).Build();
        const string dataset = "traced";
        var images = GeneratedImages.Dataset(labels: 2, perLabel: 6, seed: 11);
        foreach (var (label, file, content) in images) await pipeline.UploadAsync($"{dataset}/{label}/{file}", content);
        var queued = await pipeline.WaitForAsync(dataset, s => s.Training is { IsActive: true }, "a queued job", 120);
        var jobId = queued.Training!.JobId;
        // A request while it runs waits for it ("next"): a run of its own when it starts.
        using (var again = await pipeline.Http.PostAsync($"datasets/{dataset}/train",
            JsonContent.Create(TrainingOptions.Fast with { HeadEpochs = 30 }, options: Json.Options)))
        {
            var answer = (await again.Content.ReadFromJsonAsync<TrainResponse>(Json.Options))!;
            Assert.True(answer.Result == nameof(DispatchResult.QueuedNext), answer.Message);
        }
        var status = await pipeline.WaitForAsync(dataset, s => s.Model?.Version == jobId, "a promoted model", 600);
        using (var score = new ByteArrayContent(images[0].Content))
        {
            score.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            using var response = await pipeline.Http.PostAsync($"score/{dataset}", score);
            response.EnsureSuccessStatusCode();
        }
        tracing.ForceFlush();

        var host = hostSpans.Snapshot();
        var dispatch = Assert.Single(host, s => s.OperationName == "dispatch"
            && (string?)s.GetTagItem(Telemetry.JobTag) == jobId);
        var trace = dispatch.TraceId.ToHexString();
        var inTrace = host.Where(s => s.TraceId == dispatch.TraceId).ToList();
        // The dispatch came from the settle check that the split of one of the uploads queued.
        var settle = Assert.Single(inTrace, s => s.SpanId == dispatch.ParentSpanId);
        Assert.Equal("settle check", settle.OperationName);
        var split = Assert.Single(inTrace, s => s.SpanId == settle.ParentSpanId);
        Assert.Equal("split", split.OperationName);
        Assert.StartsWith($"{dataset}/", (string?)split.GetTagItem("pipeline.upload"));
        Assert.Equal(default, split.ParentSpanId); // the run's trace starts at the split
        Assert.Equal(trace, queued.Training.TraceId); // training.json names the run's trace

        // The trainer's spans join the same trace under the dispatch; they arrive in batches.
        var job = await WaitForSpanAsync(s => s.Name == "training job" && s.TraceId == trace);
        Assert.Equal("pipeline-trainer", job.Service);
        Assert.Equal(dispatch.SpanId.ToHexString(), job.ParentSpanId);
        Assert.Equal(jobId, job.Attributes[Telemetry.JobTag]);
        var promotion = await WaitForSpanAsync(s => s.Name == "promotion" && s.TraceId == trace);
        Assert.Equal(job.SpanId, promotion.ParentSpanId);
        Assert.Equal("true", promotion.Attributes["pipeline.promoted"]);
        var trainer = pipeline.Otlp.Spans.Where(s => s.TraceId == trace).ToList();
        output.WriteLine(string.Join("\n", trainer.Select(s => $"{s.Name} ({s.SpanId} under {s.ParentSpanId})")));
        foreach (var stage in new[] { "list images", "stage load", "upload model" })
            Assert.Contains(trainer, s => s.Name == stage && s.ParentSpanId == job.SpanId);

        // Scoring: a span with the model version that answered.
        var scored = Assert.Single(host, s => s.OperationName == "score"
            && (string?)s.GetTagItem(Telemetry.DatasetTag) == dataset);
        Assert.Equal(status.Model!.Version, scored.GetTagItem(Telemetry.ModelVersionTag));
        Assert.True(scored.GetTagItem("pipeline.score_ms") is double ms && ms > 0);

        // The next job: dispatched by the watch that saw the first one end, in a new trace linked to the first.
        var next = await pipeline.WaitForAsync(dataset, s => s.Training is { Trigger: "next" }, "the next job", 120);
        var nextDispatch = await WaitForHostSpanAsync(hostSpans, s => s.OperationName == "dispatch"
            && (string?)s.GetTagItem(Telemetry.JobTag) == next.Training!.JobId);
        Assert.NotEqual(dispatch.TraceId, nextDispatch.TraceId);
        Assert.Equal(default, nextDispatch.ParentSpanId);
        Assert.Contains(nextDispatch.Links, l => l.Context.TraceId == dispatch.TraceId);
        Assert.Equal(nextDispatch.TraceId.ToHexString(), next.Training!.TraceId);
        var nextJob = await WaitForSpanAsync(s => s.Name == "training job" && s.TraceId == next.Training.TraceId, 600);
        Assert.Equal(nextDispatch.SpanId.ToHexString(), nextJob.ParentSpanId);
    }

    /// <summary>The exporter adds from whichever thread ends a span; the test reads a copy.</summary>
    private sealed class SpanList : System.Collections.ObjectModel.Collection<Activity>
    {
        protected override void InsertItem(int index, Activity item)
        {
            lock (this) base.InsertItem(index, item);
        }

        public Activity[] Snapshot()
        {
            lock (this) return [.. Items];
        }
    }

    /// <summary>A host span, which the in-memory exporter has once the span has ended.</summary>
    private static async Task<Activity> WaitForHostSpanAsync(SpanList spans, Func<Activity, bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (spans.Snapshot().FirstOrDefault(match) is { } span) return span;
            await Task.Delay(500);
        }
        throw new TimeoutException("The host's span did not end within 60 s.");
    }

    private async Task<ReceivedSpan> WaitForSpanAsync(Func<ReceivedSpan, bool> match, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (pipeline.Otlp.Spans.FirstOrDefault(match) is { } span) return span;
            await Task.Delay(500);
        }
        throw new TimeoutException(
            $"The trainer's span did not arrive at the OTLP receiver within {seconds} s; it has: " +
            string.Join(", ", pipeline.Otlp.Spans.Select(s => $"{s.Service}/{s.Name}")));
    }
}
