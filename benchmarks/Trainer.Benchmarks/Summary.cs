using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Pipeline.Trainer.Benchmarks;

/// <summary>
/// Per dataset and route: mean and standard deviation over the seeded splits, and each trainer setting paired with
/// the ML.NET route on the same splits (the difference in accuracy, wins/ties/losses, the ratio of times). Pairing on
/// the same split takes the split's own difficulty out of the comparison, which a difference of means keeps in.
/// </summary>
public static class Summary
{
    /// <summary>A row with the limit it was run at: splits at different limits are different splits.</summary>
    private sealed record Run(ResultRow Row, int? Limit)
    {
        public string Dataset => Limit is { } n ? $"{Row.Dataset} (≤{n}/label)" : Row.Dataset;
        public (string, int?, int?) Split => (Row.Dataset, Limit, Row.Seed);
    }

    public static string Markdown(IEnumerable<ResultFile> files, TextWriter notes)
    {
        // Later files win where two hold the same route on the same split (a rerun of what an earlier one left).
        var runs = new Dictionary<(string, int?, int?, string), Run>();
        var replaced = 0;
        foreach (var file in files)
            foreach (var row in file.Rows)
            {
                var run = new Run(row, file.LimitPerLabel);
                var key = (row.Dataset, file.LimitPerLabel, row.Seed, row.Route);
                if (runs.TryGetValue(key, out var earlier) && earlier.Row.Succeeded && !row.Succeeded) continue;
                if (runs.ContainsKey(key)) replaced++;
                runs[key] = run;
            }
        if (replaced > 0)
            notes.WriteLine($"note: {replaced} runs appear again in a later file (same dataset, seed and setting); " +
                "the later run counts");
        var all = runs.Values.ToList();
        var mlnet = all.Where(r => r.Row.Route == ResultRow.MlNet && r.Row.Succeeded).ToDictionary(r => r.Split);

        var text = new StringBuilder();
        text.AppendLine("| dataset | route/setting | splits | accuracy | macro F1 | seconds to model | " +
            "peak memory MB | Δ accuracy vs ML.NET | W/T/L | time / ML.NET | path |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|");
        foreach (var dataset in all.GroupBy(r => r.Dataset))
        {
            // ML.NET first, then the settings in the order they ran.
            foreach (var route in dataset.GroupBy(r => r.Row.Route).OrderBy(g => g.Key == ResultRow.MlNet ? 0 : 1))
            {
                var ok = route.Where(r => r.Row.Succeeded).OrderBy(r => r.Row.Seed).ToList();
                var failed = route.Count() - ok.Count;
                var splits = ok.Count.ToString(CultureInfo.InvariantCulture)
                    + (failed > 0 ? $" (+{failed} failed)" : "");
                var rows = ok.Select(r => r.Row).ToList();
                var cells = new List<string>
                {
                    dataset.Key, route.Key, splits,
                    Spread(rows.Select(r => r.Accuracy), "0.0000"), Spread(rows.Select(r => r.MacroF1), "0.0000"),
                    Spread(rows.Select(r => r.SecondsToModel), "0.0"),
                    Spread(rows.Select(r => (double?)r.PeakMemoryMB), "0"),
                };
                if (route.Key == ResultRow.MlNet) cells.AddRange(["–", "–", "–"]);
                else cells.AddRange(Paired(ok, mlnet));
                cells.Add(Paths(rows));
                text.AppendLine($"| {string.Join(" | ", cells)} |");
            }
        }
        return text.ToString();
    }

    /// <summary>Each trainer run against the ML.NET run on its own split; failed splits left out.</summary>
    private static string[] Paired(List<Run> trainer, Dictionary<(string, int?, int?), Run> mlnet)
    {
        var pairs = trainer.Where(t => mlnet.ContainsKey(t.Split))
            .Select(t => (T: t.Row, M: mlnet[t.Split].Row)).ToList();
        if (pairs.Count == 0) return ["–", "–", "–"];
        var differences = pairs.Select(p => p.T.Accuracy!.Value - p.M.Accuracy!.Value).ToList();
        // A tie is the same count of test images right; accuracies are fractions of the same test split.
        const double tie = 1e-9;
        var (wins, ties) = (differences.Count(d => d > tie), differences.Count(d => Math.Abs(d) <= tie));
        var wtl = $"{wins}/{ties}/{differences.Count - wins - ties}";
        var ratios = pairs.Where(p => p.T.SecondsToModel > 0 && p.M.SecondsToModel > 0)
            .Select(p => (double?)(p.T.SecondsToModel!.Value / p.M.SecondsToModel!.Value));
        var delta = Spread(differences.Select(d => (double?)d), "+0.0000;-0.0000;0.0000");
        var paired = pairs.Count < trainer.Count ? $"{delta} ({pairs.Count} paired)" : delta;
        return [paired, wtl, Spread(ratios, "0.00", spread: false)];
    }

    /// <summary>Mean ± sample standard deviation (n - 1); the mean alone for one value.</summary>
    private static string Spread(IEnumerable<double?> values, string format, bool spread = true)
    {
        var v = values.Where(x => x is not null).Select(x => x!.Value).ToList();
        if (v.Count == 0) return "–";
        var mean = v.Average();
        var text = mean.ToString(format, CultureInfo.InvariantCulture);
        if (!spread || v.Count < 2) return text;
        var sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1));
        return $"{text} ± {sd.ToString(format.Split(';')[^1], CultureInfo.InvariantCulture)}";
    }

    /// <summary>The recipe's paths over the splits, most frequent first, with how many splits took each.</summary>
    private static string Paths(List<ResultRow> rows)
    {
        var paths = rows.Where(r => r.Path is not null).GroupBy(r => r.Path!)
            .OrderByDescending(g => g.Count()).ToList();
        if (paths.Count == 0) return "–";
        var single = paths.Count == 1 && paths[0].Count() == rows.Count;
        return string.Join("; ", paths.Select(g => single ? g.Key : $"{g.Key} ×{g.Count()}"));
    }

    /// <summary><c>summarize &lt;results.json&gt;...</c></summary>
    public static Command CreateCommand()
    {
        var files = new Argument<FileInfo[]>("results")
        {
            Description = "Results files written by run (several are combined)",
            Arity = ArgumentArity.OneOrMore,
        };
        files.AcceptExistingOnly();
        var command = new Command("summarize", "Prints the summary of saved runs again (partial runs too)")
        {
            files,
        };
        command.SetAction(parse =>
        {
            var loaded = parse.GetRequiredValue(files).Select(f => ResultFile.Load(f.FullName)).ToList();
            Console.WriteLine(Markdown(loaded, Console.Error));
            return 0;
        });
        return command;
    }
}
