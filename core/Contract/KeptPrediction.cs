namespace Pipeline.Core.Contract;

/// <summary>
/// predictions/{dataset}/{id}.json: a scored image kept for review (Custom Vision keeps them 30 days), beside the
/// image itself (<see cref="Image"/>, in the same folder). <see cref="Margin"/> is the gap between the two most
/// probable labels: the smallest margins are the images the model was least sure of.
/// </summary>
public sealed record KeptPrediction(Guid Id, string Dataset, string ModelVersion, DateTimeOffset CreatedAt,
    string Image, IReadOnlyList<LabelProbability> Predictions, double Margin)
{
    public static double MarginOf(IReadOnlyList<LabelProbability> predictions)
    {
        var top = predictions.Select(p => p.Probability).OrderDescending().Take(2).ToList();
        return top.Count switch { 0 => 0, 1 => top[0], _ => top[0] - top[1] };
    }
}

public sealed record LabelProbability(string Label, double Probability);
