using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Training;

namespace Pipeline.Cli;

/// <summary><c>pipeline status [&lt;dataset&gt;] [--watch]</c>: the dataset as the API sees it; with --watch, the
/// training job live until it ends.</summary>
public static class StatusCommand
{
    public static Command Create(CliOptions options)
    {
        // Optional: without a dataset, status is the overview of every dataset.
        var dataset = new Argument<string?>("dataset")
        {
            Description = "the dataset's name (none: every dataset, storage problems, uploads under an invalid " +
                "dataset name)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        dataset.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && Names.CheckDataset(r.GetValueOrDefault<string?>()) is { } problem)
                r.AddError(problem);
        });
        var watch = new Option<bool>("--watch")
        {
            Description = "follow the job live (waiting for one to start) " +
            "until it ends"
        };
        var command = new Command("status",
            "Images, rejected files, the training job (stage, epoch, metrics), the model") { dataset, watch };
        command.SetAction((parse, ct) => options.RunAsync(parse, connection => parse.GetValue(dataset) is null
            ? OverviewAsync(parse.GetValue(options.Json), connection, options.Console, ct)
            : RunAsync(parse.GetValue(dataset)!, parse.GetValue(watch), parse.GetValue(options.Json), connection,
                options.Console, ct), ct));
        return command;
    }

    public static async Task<int> RunAsync(string dataset, bool watch, bool json, Connection connection,
        CliConsole console, CancellationToken ct)
    {
        var answer = await connection.GetJsonAsync($"datasets/{dataset}", ct);
        if (json) console.Out.WriteLine(answer.GetRawText());
        else Print(answer, console);
        return watch ? await WatchAsync(dataset, connection, console, ct) : ExitCodes.Ok;
    }

    /// <summary>Prints each change of the training job until it is no longer queued or running (waiting for one if
    /// there is none yet); 0 when it succeeded, 1 when it failed.</summary>
    public static async Task<int> WatchAsync(string dataset, Connection connection, CliConsole console,
        CancellationToken ct)
    {
        var last = "";
        while (true)
        {
            var answer = await connection.GetJsonAsync($"datasets/{dataset}", ct);
            var status = answer.Deserialize<DatasetStatus>(Json.Options)!;
            var line = status.Training is null
                ? $"No training yet: it starts once no new image arrived for the quiet period, or now with: pipeline " +
                    $"train {dataset} (Ctrl+C stops watching)"
                : JobLine(status.Training);
            if (line != last) console.Out.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");
            last = line;
            if (status.Training is { IsActive: false })
            {
                if (status.Model is { } model) console.Out.WriteLine(ModelLine(model, Report(answer)));
                return status.Training?.State == TrainingState.Failed ? ExitCodes.Failed : ExitCodes.Ok;
            }
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
        }
    }

    /// <summary>
    /// <c>pipeline status</c>: every dataset, storage problems, and uploads whose dataset name is invalid.
    /// </summary>
    private static async Task<int> OverviewAsync(bool json, Connection connection, CliConsole console,
        CancellationToken ct)
    {
        var answer = await connection.GetJsonAsync("datasets", ct);
        if (json) { console.Out.WriteLine(answer.GetRawText()); return ExitCodes.Ok; }
        var o = console.Out;
        var datasets = answer.GetProperty("datasets").Deserialize<List<DatasetSummary>>(Json.Options)!;
        o.WriteLine(datasets.Count == 0 ? "No datasets yet." : $"{datasets.Count} dataset(s):");
        foreach (var d in datasets)
            o.WriteLine($"  {d.Dataset}: {d.Images} images, {d.Labels} labels, {d.Rejected} rejected, training " +
                $"{d.Training ?? "none"}" +
                (d.ModelVersion is null ? "" : $", model {d.ModelVersion} (test accuracy {F(d.TestAccuracy)})"));
        if (answer.TryGetProperty("problems", out var problems))
            foreach (var problem in problems.EnumerateArray()) o.WriteLine($"Problem: {problem.GetString()}");
        if (answer.TryGetProperty("rejectedWithoutDataset", out var invalid) && invalid.GetArrayLength() > 0)
        {
            o.WriteLine("Uploads under an invalid dataset name (rejected):");
            foreach (var r in invalid.Deserialize<List<RejectedUpload>>(Json.Options)!.Take(20))
                o.WriteLine($"  {r.Path}: {r.Reason}");
        }
        return ExitCodes.Ok;
    }

    private static void Print(JsonElement answer, CliConsole console)
    {
        var s = answer.Deserialize<DatasetStatus>(Json.Options)!;
        var o = console.Out;
        o.WriteLine($"Dataset {s.Dataset} ({s.Classification}): {s.Labels.Count} labels, {s.TrainImages} train and " +
            $"{s.TestImages} test images, {s.RejectedCount} rejected");
        var width = Math.Max(5, s.Labels.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max());
        o.WriteLine($"  {"label".PadRight(width)}  {"train",6}  {"test",6}");
        foreach (var (label, counts) in s.Labels) o.WriteLine($"  {label.PadRight(width)}  {counts.Train,6} " +
            $" {counts.Test,6}");
        if (s.Rejected.Count > 0)
        {
            o.WriteLine("Rejected uploads:");
            foreach (var r in s.Rejected.Take(20)) o.WriteLine($"  {r.Path}: {r.Reason}");
            if (s.RejectedCount > 20) o.WriteLine($"  ... and {s.RejectedCount - 20} more");
        }
        if (s.Conflicts is { Count: > 0 } conflicts)
        {
            o.WriteLine("Images under several labels, left out of training:");
            foreach (var c in conflicts.Take(20)) o.WriteLine($"  {c.Image}: {c.Reason}");
            if (conflicts.Count > 20) o.WriteLine($"  ... and {conflicts.Count - 20} more");
        }
        if (s.CannotTrain is not null) o.WriteLine(s.CannotTrain);
        o.WriteLine(JobLine(s.Training));
        o.WriteLine(s.Model is { } model ? ModelLine(model, Report(answer)) : "Model: none promoted yet");
        if (s.ProjectId is { } project) o.WriteLine($"Custom Vision project id: {project}");
    }

    private static string? Report(JsonElement answer) => answer.TryGetProperty("report",
        out var r) ? r.GetString() : null;

    public static string JobLine(TrainingJob? job)
    {
        if (job is null) return "Training: none yet";
        var text = $"Training {job.JobId}: {job.Status}";
        if (job.State == TrainingState.Running && job.Progress is { } p)
        {
            text += p.Message is not null && p.Epochs == 0 ? $", {p.Stage}: {p.Message}"
                : $", {p.Stage} {p.Epoch}/{p.Epochs}";
            if (p.Stage is "head" or "fine-tune")
                text += $": loss {F(p.Loss)}, accuracy {F(p.Accuracy)}, validation loss {F(p.ValidationLoss)}, " +
                    $"validation accuracy {F(p.ValidationAccuracy)}";
        }
        if (job.State == TrainingState.Succeeded && job.Metrics is { } m)
        {
            var promoted = job.Promoted == true ? ", promoted" : "";
            text += $", test accuracy {F(m.Accuracy)}, macro F1 {F(m.MacroF1)}{promoted}";
        }
        if (job.Reason is not null) text += $" ({job.Reason})";
        foreach (var failed in job.FailedAttempts) text += $"\n  attempt {failed.Attempt} failed: {failed.Reason}";
        return text;
    }

    private static string ModelLine(LatestModel model, string? report)
    {
        var promoted = model.PromotedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        return $"Model: {model.Version}, promoted {promoted} UTC, test accuracy {F(model.TestAccuracy)}" +
            (model.Metrics is { } m ? $", macro F1 {F(m.MacroF1)}" : "") +
            (report is not null ? $"\nReport: {report}" : "");
    }

    private static string F(double? value) => value?.ToString("0.000", CultureInfo.InvariantCulture) ?? "-";
}
