using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Contract;

namespace Pipeline.Trainer.Report;

/// <summary>The report's HTML: what a person looks at first (headline metrics, curves, confusions, wrong images) comes
/// first, the run's details last.</summary>
internal sealed class ReportPage(ModelManifest manifest)
{
    public byte[]? LossCurve { get; init; }
    public byte[]? AccuracyCurve { get; init; }
    public byte[]? ConfusionMatrix { get; init; }
    public IReadOnlyList<WrongPrediction> Wrong { get; init; } = [];
    public IReadOnlyList<SkippedFile> Rejected { get; init; } = [];

    private readonly StringBuilder html = new();
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public string Render()
    {
        var m = manifest.Metrics;
        html.Append($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{E(manifest.Dataset)} {E(manifest.Version)}: training report</title>
            <style>{Style}</style></head><body>
            <header><h1>{E(manifest.Dataset)} <span class="version">model {E(manifest.Version)}</span></h1>
            <p>Trained {manifest.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", Invariant)} UTC
            on {E(manifest.Device)} in {Duration(manifest.Timings.TotalSeconds)};
            {manifest.Labels.Count} labels, {Images("train")} training, {Images("validation")} validation
            and {m.TestImages} test images.</p>
            <div class="cards">
            {Headline(m)}
            </div></header>
            """);
        Curves();
        Confusions();
        PerLabel();
        WrongImages();
        Counts();
        NotUsed();
        Run();
        html.Append("<footer>Written by the trainer beside model.onnx and model.json; "
            + "everything on this page is in this one file.</footer></body></html>\n");
        return html.ToString();
    }

    private void Curves()
    {
        html.Append("<section id=\"learning\"><h2>How training went</h2>");
        Recipe();
        if (LossCurve is null || AccuracyCurve is null)
        {
            html.Append("<p>No epochs were recorded.</p></section>");
            return;
        }
        html.Append($"""
            <p>Loss and accuracy per epoch on the training images and the validation images. An lbfgs head is one fit:
            its point shows the fit on all training images and, as validation, its cross-validated figures. The model
            kept is circled; fine-tuning is kept only if it clearly beats the frozen head. A validation curve that rises
            while the training curve falls means over-fitting; both flat and poor means the model cannot tell the
            labels apart.</p>
            <div class="plots">{Img(LossCurve, "image/png", "Loss per epoch, train and validation")}
            {Img(AccuracyCurve, "image/png", "Accuracy per epoch, train and validation")}</div></section>
            """);
    }

    private bool Multilabel => Classification.IsMultilabel(manifest.Classification);

    private string Headline(Metrics m) => Multilabel
        ? Card("mean average precision", (m.MeanAveragePrecision ?? 0).ToString("0.000", Invariant))
            + Card("exact-match accuracy", Percent(m.Accuracy))
            + Card("micro F1", (m.MicroF1 ?? 0).ToString("0.000", Invariant))
            + Card("macro F1", m.MacroF1.ToString("0.000", Invariant))
        : Card("test accuracy", Percent(m.Accuracy)) + Card("macro F1", m.MacroF1.ToString("0.000", Invariant))
            + Card("log loss", m.LogLoss.ToString("0.000", Invariant))
            + Card("wrong on test", $"{m.TestImages - Correct()} of {m.TestImages}");

    /// <summary>A multilabel model's confusions: per label, its test images by outcome at the label's
    /// threshold.</summary>
    private void Outcomes()
    {
        html.Append("<section id=\"confusion\"><h2>Where the model is wrong, label by label</h2>");
        if (manifest.Metrics.Outcomes is not { Count: > 0 } outcomes)
        {
            html.Append("<p>No test images.</p></section>");
            return;
        }
        html.Append("<p>Each image may have several labels, so each label is its own yes-or-no question: on the test "
            + "split, at the label's threshold, the images rightly called (true positives), wrongly called (false "
            + "positives), missed (false negatives) and rightly left out (true negatives).</p>");
        html.Append("<table id=\"label-outcomes\"><thead><tr><th>label</th><th>true positives</th>"
            + "<th>false positives</th><th>false negatives</th><th>true negatives</th></tr></thead><tbody>");
        foreach (var label in manifest.Labels)
        {
            var o = outcomes.TryGetValue(label, out var v) ? v : new LabelOutcomes(0, 0, 0, 0);
            html.Append($"<tr><th>{E(label)}</th><td class=\"count right\">{o.TruePositives}</td>"
                + $"<td class=\"count{(o.FalsePositives > 0 ? " wrong" : "")}\">{o.FalsePositives}</td>"
                + $"<td class=\"count{(o.FalseNegatives > 0 ? " wrong" : "")}\">{o.FalseNegatives}</td>"
                + $"<td class=\"count right\">{o.TrueNegatives}</td></tr>");
        }
        html.Append("</tbody></table></section>");
    }

    private void Confusions()
    {
        if (Multilabel) { Outcomes(); return; }
        var matrix = manifest.Metrics.ConfusionMatrix;
        html.Append("<section id=\"confusion\"><h2>Where the model is confused</h2>");
        if (ConfusionMatrix is null) { html.Append("<p>No test images.</p></section>"); return; }
        html.Append("<p>Each row is a true label, each column the label predicted for it, on the test split "
            + "(never seen in training). The diagonal is right; "
            + "colour is the share of the row.</p>");
        html.Append(Img(ConfusionMatrix, "image/png", "Confusion matrix heat map with counts"));
        html.Append("<details><summary>The counts as a table</summary>"
            + "<table id=\"confusion-counts\"><thead><tr><th>true \\ predicted</th>");
        foreach (var label in manifest.Labels) html.Append($"<th>{E(label)}</th>");
        html.Append("<th>total</th></tr></thead><tbody>");
        for (var row = 0; row < matrix.Count; row++)
        {
            html.Append($"<tr><th>{E(manifest.Labels[row])}</th>");
            for (var col = 0; col < matrix[row].Count; col++)
                html.Append($"<td class=\"count{(row == col ? " right" : matrix[row][col] > 0 ? " wrong" : "")}\">"
                    + $"{matrix[row][col]}</td>");
            html.Append($"<td>{matrix[row].Sum()}</td></tr>");
        }
        html.Append("</tbody></table></details></section>");
    }

    private void PerLabel()
    {
        html.Append("""
            <section id="labels"><h2>Per label</h2>
            <p>Precision: of the images predicted as the label, the share that are. Recall: of the label's test images,
            the share found.
            Threshold: the probability at which the label is best called (highest F1 on validation), for when a wrong
            call costs more than none.</p>
            <table><thead><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th>
            """);
        if (Multilabel) html.Append("<th>average precision</th>");
        html.Append("<th>support</th><th>threshold</th></tr></thead><tbody>");
        foreach (var label in manifest.Labels)
        {
            var s = manifest.Metrics.PerLabel.TryGetValue(label, out var v) ? v : new LabelMetrics(0, 0, 0, 0);
            var threshold = manifest.Thresholds.TryGetValue(label, out var t) ? t.ToString("0.00", Invariant) : "";
            var ap = Multilabel ? $"<td>{Bar(s.AveragePrecision ?? 0)}</td>" : "";
            html.Append($"<tr><th>{E(label)}</th><td>{Bar(s.Precision)}</td><td>{Bar(s.Recall)}</td>"
                + $"<td>{Bar(s.F1)}</td>{ap}<td>{s.Support}</td><td>{threshold}</td></tr>");
        }
        var meanAp = Multilabel ? $"<td>{Bar(manifest.Metrics.MeanAveragePrecision ?? 0)}</td>" : "";
        html.Append($"</tbody><tfoot><tr><th>macro average</th>"
            + $"<td>{Bar(manifest.Metrics.PerLabel.Values.DefaultIfEmpty().Average(v => v?.Precision ?? 0))}</td>"
            + $"<td>{Bar(manifest.Metrics.PerLabel.Values.DefaultIfEmpty().Average(v => v?.Recall ?? 0))}</td>"
            + $"<td>{Bar(manifest.Metrics.MacroF1)}</td>"
            + $"{meanAp}<td>{manifest.Metrics.TestImages}</td><td></td></tr></tfoot></table></section>");
    }

    private void WrongImages()
    {
        html.Append("<section id=\"wrong\"><h2>Most confidently wrong</h2>");
        if (Multilabel)
        {
            html.Append("<p>Not shown for multilabel models yet: the table of each label's outcomes above counts their "
                + "mistakes.</p></section>");
            return;
        }
        if (Wrong.Count == 0) { html.Append("<p>The model gets every test image right.</p></section>"); return; }
        var total = manifest.Metrics.TestImages - Correct();
        html.Append("<p>The test images the model is surest about and wrong, "
            + $"{(Wrong.Count < total ? $"the first {Wrong.Count} of {total}" : $"all {total}")}, "
            + "as the model saw them (resized to 224 x 224). "
            + "Often the label is wrong, or the image shows both things.</p>"
            + "<div class=\"thumbs\">");
        foreach (var w in Wrong)
        {
            var name = Path.GetFileName(w.Image.Path);
            // The run keeps the pixels of the images shown; an outcome without them shows the caption alone.
            var thumbnail = w.Image.Pixels is { } pixels ? Img(Thumbnail.Jpeg(pixels), "image/jpeg",
                $"{manifest.Labels[w.Image.Label]} predicted as {manifest.Labels[w.Predicted]}") : "";
            html.Append($"""
                <figure>{thumbnail}
                <figcaption><b>{E(manifest.Labels[w.Predicted])}</b> {Percent(w.Probability)}<br>
                true: {E(manifest.Labels[w.Image.Label])} ({Percent(w.TrueProbability)})<br>
                <span class="path" title="{E(w.Image.Path)}">{E(name)}</span></figcaption></figure>
                """);
        }
        html.Append("</div></section>");
    }

    private void Counts()
    {
        html.Append("<section id=\"counts\"><h2>Images per label and split</h2><table><thead><tr><th>label</th>"
            + "<th>train</th><th>validation</th><th>test</th><th>total</th></tr></thead><tbody>");
        // A multilabel dataset's Negative images (no label) have a row of their own.
        var counted = manifest.ImageCounts.Keys.Where(k => !manifest.Labels.Contains(k));
        foreach (var label in manifest.Labels.Concat(counted))
        {
            var c = manifest.ImageCounts.TryGetValue(label, out var v) ? v : new Dictionary<string, int>();
            int Count(string split) => c.TryGetValue(split, out var n) ? n : 0;
            html.Append($"<tr><th>{E(label)}</th><td>{Count("train")}</td><td>{Count("validation")}</td>"
                + $"<td>{Count("test")}</td><td>{Count("train") + Count("validation") + Count("test")}</td></tr>");
        }
        html.Append($"</tbody><tfoot><tr><th>all</th><td>{Images("train")}</td><td>{Images("validation")}</td>"
            + $"<td>{Images("test")}</td>"
            + $"<td>{Images("train") + Images("validation") + Images("test")}</td></tr></tfoot></table></section>");
    }

    private void NotUsed()
    {
        var files = Rejected.Select(r => (Shown: r.Path, r.Path, r.Reason, By: "refused on upload"))
            .Concat(manifest.Skipped.Select(s =>
                (Shown: Shown(s.Path), s.Path, s.Reason, By: "skipped by the trainer")))
            .ToList();
        html.Append("<section id=\"not-used\"><h2>Files not used</h2>");
        if (files.Count == 0) { html.Append("<p>Every file was used.</p></section>"); return; }
        html.Append($"<p>{files.Count} file{(files.Count == 1 ? "" : "s")} could not be used; "
            + "fix or remove them and upload again.</p>"
            + "<table><thead><tr><th>file</th><th class=\"text\">why</th><th class=\"text\">when</th></tr></thead>"
            + "<tbody>");
        foreach (var f in files)
            html.Append($"<tr><td class=\"path\" title=\"{E(f.Path)}\">{E(f.Shown)}</td>"
                + $"<td class=\"text\">{E(f.Reason)}</td><td class=\"text\">{f.By}</td></tr>");
        html.Append("</tbody></table></section>");
    }

    /// <summary>What the recipe decided, and why: the head, fine-tuning, the mirror average, precision, the
    /// budget.</summary>
    private void Recipe()
    {
        if (manifest.Recipe is not { } r) return;
        html.Append("<table id=\"recipe\"><tbody>");
        void Row(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
                html.Append($"<tr><th>{name}</th><td class=\"text\">{E(value)}</td></tr>");
        }
        Row("head", r.Head);
        if (r.CrossValidatedAccuracy is { } accuracy)
            Row("cross-validated", $"accuracy {accuracy.ToString("0.0000", Invariant)}, "
                + $"log loss {r.CrossValidatedLogLoss?.ToString("0.0000", Invariant)}");
        Row("fine-tuning", r.FineTune);
        Row("augmented views", r.AugmentedViews.ToString(Invariant));
        Row("mirror average", $"{(r.FlipAverage ? "on" : "off")}: {r.FlipAverageReason}");
        Row("backbone arithmetic", r.Precision);
        Row("thresholds from", r.Thresholds);
        Row("left out by the budget", string.Join("; ", r.LeftOut));
        html.Append("</tbody></table>");
    }

    private void Run()
    {
        var t = manifest.Timings;
        html.Append($"""
            <section id="run"><h2>The run</h2><div class="columns">
            <table><caption>Timings</caption><tbody>
            <tr><th>reading images</th><td>{Duration(t.LoadSeconds)}</td></tr>
            <tr><th>backbone features</th><td>{Duration(t.FeatureSeconds)}
                ({t.FeatureImagesPerSecond.ToString("0.0", Invariant)} images/s)</td></tr>
            <tr><th>head stage</th><td>{Duration(t.HeadSeconds)}</td></tr>
            <tr><th>fine-tuning</th><td>{Duration(t.FineTuneSeconds)}{(t.FineTuneSeconds > 0
                ? $" ({t.FineTuneImagesPerSecond.ToString("0.0", Invariant)} images/s)"
                : "")}</td></tr>
            <tr><th>evaluation</th><td>{Duration(t.EvaluateSeconds)}</td></tr>
            <tr><th>total</th><td>{Duration(t.TotalSeconds)}</td></tr>
            <tr><th>device</th><td>{E(manifest.Device)}</td></tr>
            <tr><th>backbone</th><td>{E(manifest.Backbone)}</td></tr>
            <tr><th>input</th><td>{manifest.Preprocessing.Size} x {manifest.Preprocessing.Size},
                {E(manifest.Preprocessing.Resize)}</td></tr>
            </tbody></table>
            <table><caption>Versions</caption><tbody>
            """);
        foreach (var (name, version) in manifest.PackageVersions.OrderBy(p => p.Key, StringComparer.Ordinal))
            html.Append($"<tr><th>{E(name)}</th><td>{E(version)}</td></tr>");
        // The report's own plotting library, which model.json does not list.
        var scottPlot = typeof(ScottPlot.Plot).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
            ?.InformationalVersion.Split('+')[0];
        html.Append($"<tr><th>ScottPlot (this report)</th><td>{E(scottPlot ?? "?")}</td></tr>");
        html.Append($"""
            </tbody></table></div>
            <h3>Options</h3><pre>{E(JsonSerializer.Serialize(manifest.Options, Json.Options))}</pre></section>
            """);
    }

    private int Images(string split) => manifest.ImageCounts.Values.Sum(c => c.TryGetValue(split, out var n) ? n : 0);
    private int Correct() => manifest.Metrics.ConfusionMatrix.Select((row, i) => i < row.Count ? row[i] : 0).Sum();

    private static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>A file as the user named it: from its split or label folder on, not the trainer's temporary
    /// folder.</summary>
    private static string Shown(string path)
    {
        var segments = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var split = Array.FindLastIndex(segments, s => s is "train" or "test" or "val");
        return string.Join('/',
            segments[(split >= 0 && segments.Length - split <= 3 ? split : Math.Max(0, segments.Length - 2))..]);
    }
    private static string Percent(double value) => (100 * value).ToString("0.0", Invariant) + " %";
    private static string Card(string name, string value) =>
        $"<div class=\"card\"><div class=\"value\">{E(value)}</div><div>{E(name)}</div></div>";
    private static string Bar(double value) =>
        $"<span class=\"bar\" style=\"--v:{(100 * value).ToString("0", Invariant)}%\">"
        + $"{value.ToString("0.000", Invariant)}</span>";
    private static string Img(byte[] content, string type, string alt) =>
        $"<img src=\"data:{type};base64,{Convert.ToBase64String(content)}\" alt=\"{E(alt)}\">";

    private static string Duration(double seconds) => seconds switch
    {
        < 1 => $"{(seconds * 1000).ToString("0", Invariant)} ms",
        < 120 => $"{seconds.ToString("0.0", Invariant)} s",
        _ => $"{(int)(seconds / 60)} min {(int)(seconds % 60)} s",
    };

    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;
        max-width:1200px;padding:1.5rem;color:#1f2328;line-height:1.45}
        h1{margin:.2rem 0}h1 .version{font-size:.55em;font-weight:normal;color:#57606a}
        h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
        .cards{display:flex;gap:1rem;flex-wrap:wrap}
        .card{border:1px solid #d0d7de;border-radius:8px;padding:.6rem 1rem;min-width:9rem}
        .card .value{font-size:1.6rem;font-weight:600}
        .plots{display:flex;gap:1rem}.plots img{width:calc(50% - .5rem)}img{max-width:100%;height:auto}
        @media (max-width:800px){.plots{flex-wrap:wrap}.plots img{width:100%}}
        table{border-collapse:collapse;margin:.5rem 0}
        th,td{border-bottom:1px solid #e6e9ec;padding:.3rem .7rem;text-align:right}
        th:first-child,td.path,.text{text-align:left}caption{text-align:left;font-weight:600;padding:.3rem 0}
        td.right{background:#dafbe1}td.wrong{background:#ffebe9}
        .bar{display:inline-block;min-width:5rem;
        background:linear-gradient(90deg,#b6d7f5 var(--v),transparent var(--v))}
        .thumbs{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:1rem}
        figure{margin:0;border:1px solid #d0d7de;border-radius:6px;padding:.4rem;font-size:.85rem}
        figure img{width:100%;display:block}
        .path{font-family:ui-monospace,monospace;font-size:.8rem;word-break:break-all;color:#57606a}
        .columns{display:flex;gap:3rem;flex-wrap:wrap}
        pre{background:#f6f8fa;padding:.8rem;overflow:auto;font-size:.8rem}
        footer{margin-top:3rem;color:#57606a;font-size:.85rem}
        """;
}
