using System.Globalization;
using System.Text.Json;
using Azure;
using Pipeline.Core.Contract;
using Pipeline.Core.Scoring;
using Pipeline.Core.Training;

namespace Pipeline.Cli;

/// <summary><c>pipeline models &lt;dataset&gt;</c>: every model version in storage with its test metrics; the promoted one marked.</summary>
public static class ModelsCommand
{
    public sealed record VersionRow(string Version, bool Promoted, DateTimeOffset CreatedAt, double Accuracy, double MacroF1, double LogLoss, int TestImages,
        int Labels, string Device, bool HasReport);

    public static async Task<int> RunAsync(Arguments args, Connection connection, CliConsole console, CancellationToken ct)
    {
        var dataset = TrainCommand.Dataset(args.Required(0, "<dataset>"));
        var json = args.Flag("--json");
        args.Done(1);
        var rows = await ListAsync(dataset, connection, ct);
        if (rows.Count == 0)
            throw new CliException(ExitCodes.NotFound, $"Dataset '{dataset}' has no model versions yet. Upload images (pipeline upload <folder> --dataset {dataset}) and train (pipeline train {dataset}).");
        if (json) { console.Out.WriteLine(JsonSerializer.Serialize(rows, Json.Options)); return ExitCodes.Ok; }

        var width = Math.Max(7, rows.Max(r => r.Version.Length));
        console.Out.WriteLine($"  {"version".PadRight(width)}  {"created (UTC)",-16}  {"accuracy",8}  {"macro F1",8}  {"log loss",8}  {"test",5}  {"labels",6}  report");
        foreach (var r in rows)
            console.Out.WriteLine($"{(r.Promoted ? "*" : " ")} {r.Version.PadRight(width)}  {r.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),-16}  " +
                $"{F(r.Accuracy),8}  {F(r.MacroF1),8}  {F(r.LogLoss),8}  {r.TestImages,5}  {r.Labels,6}  {(r.HasReport ? "yes" : "no")}");
        console.Out.WriteLine(rows.Any(r => r.Promoted) ? "* promoted: the version POST /api/score uses" : "No version is promoted yet.");
        return ExitCodes.Ok;
    }

    public static async Task<IReadOnlyList<VersionRow>> ListAsync(string dataset, Connection connection, CancellationToken ct)
    {
        var versions = new ModelVersions(connection.Storage,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ModelVersions>.Instance);
        var (latest, _) = await versions.ReadLatestAsync(dataset, ct);
        var rows = new List<VersionRow>();
        foreach (var version in (await versions.ListVersionsAsync(dataset, ct)).Order(StringComparer.Ordinal))
        {
            ModelManifest manifest;
            try
            {
                var content = await connection.Storage.Models.GetBlobClient($"{dataset}/{version}/{Scorer.ManifestFile}").DownloadContentAsync(ct);
                manifest = Scorer.ReadManifest(content.Value.Content.ToString());
            }
            catch (RequestFailedException e) when (e.Status == 404) { continue; } // still being written, or a crashed upload
            var report = await connection.Storage.Models.GetBlobClient($"{dataset}/{version}/{ReportCommand.FileName}").ExistsAsync(ct);
            rows.Add(new VersionRow(version, latest?.Version == version, manifest.CreatedAt, manifest.Metrics.Accuracy, manifest.Metrics.MacroF1,
                manifest.Metrics.LogLoss, manifest.Metrics.TestImages, manifest.Labels.Count, manifest.Device, report.Value));
        }
        return rows;
    }

    private static string F(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
