using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;

namespace Pipeline.Cli;

/// <summary><c>pipeline models &lt;dataset&gt;</c>: every model version in storage with its test metrics; the promoted
/// one marked, and the published names that point to each.</summary>
public static class ModelsCommand
{
    public sealed record VersionRow(string Version, bool Promoted, DateTimeOffset CreatedAt, double Accuracy,
        double MacroF1, double LogLoss, int TestImages,
        int Labels, string Device, bool HasReport, IReadOnlyList<string> Names);

    public static Command Create(CliOptions options)
    {
        var dataset = CliOptions.DatasetArgument();
        var command = new Command("models",
            "Model versions with their test metrics and published names; * marks the promoted one") { dataset };
        command.SetAction((parse, ct) => options.RunAsync(parse, connection =>
            RunAsync(parse.GetValue(dataset)!, parse.GetValue(options.Json), connection, options.Console, ct), ct));
        return command;
    }

    public static async Task<int> RunAsync(string dataset, bool json, Connection connection, CliConsole console,
        CancellationToken ct)
    {
        var rows = await ListAsync(dataset, connection, ct);
        if (rows.Count == 0)
            throw new CliException(ExitCodes.NotFound,
                $"Dataset '{dataset}' has no model versions yet. Upload images (pipeline upload <folder> " +
                $"--dataset {dataset}) and train (pipeline train {dataset}).");
        if (json) { console.Out.WriteLine(JsonSerializer.Serialize(rows, Json.Options)); return ExitCodes.Ok; }

        var width = Math.Max(7, rows.Max(r => r.Version.Length));
        console.Out.WriteLine($"  {"version".PadRight(width)}  {"created (UTC)",-16}  {"accuracy",8}  " +
            $"{"macro F1",8}  {"log loss",8}  {"test",5}  {"labels",6}  report  names");
        foreach (var r in rows)
        {
            var mark = r.Promoted ? "*" : " ";
            var created = r.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
            var report = r.HasReport ? "yes" : "no";
            console.Out.WriteLine(($"{mark} {r.Version.PadRight(width)}  {created,-16}  {F(r.Accuracy),8}  " +
                $"{F(r.MacroF1),8}  {F(r.LogLoss),8}  {r.TestImages,5}  {r.Labels,6}  {report,-6}  " +
                string.Join(", ", r.Names)).TrimEnd());
        }
        console.Out.WriteLine(rows.Any(r => r.Promoted)
            ? "* promoted: the version POST /api/score uses"
            : "No version is promoted yet.");
        return ExitCodes.Ok;
    }

    /// <summary>GET /api/datasets/{dataset}/models, as the rows this command prints.</summary>
    public static async Task<IReadOnlyList<VersionRow>> ListAsync(string dataset, Connection connection,
        CancellationToken ct)
    {
        var models = await connection.GetAsync<ModelVersionList>($"datasets/{dataset}/models", ct);
        return models.Versions.Select(v => new VersionRow(v.Version, v.Promoted, v.CreatedAt, v.Metrics.Accuracy,
            v.Metrics.MacroF1,
            v.Metrics.LogLoss, v.Metrics.TestImages, v.Labels.Count, v.Device, v.Files.Contains(ModelFiles.Report),
            v.Names ?? []))
            .ToList();
    }

    private static string F(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
