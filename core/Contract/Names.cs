using System.Globalization;
using System.Text;

namespace Pipeline.Core.Contract;

/// <summary>The names users choose: a dataset travels in blob paths and URLs, a label is a folder name.</summary>
public static class Names
{
    public const int MaxDatasetLength = 63;
    public const int MaxLabelLength = 100;

    /// <summary>Null when <paramref name="dataset"/> is a valid dataset name, else the reason it is not.</summary>
    public static string? CheckDataset(string? dataset)
    {
        if (string.IsNullOrEmpty(dataset))
            return "The dataset name is empty: put images under uploads/<dataset>/<label>/.";
        if (dataset.Length > MaxDatasetLength)
            return $"The dataset name '{Shown(dataset)}' is {dataset.Length} characters; at "
                + $"most {MaxDatasetLength} are allowed.";
        foreach (var c in dataset)
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-'))
                return $"The dataset name '{Shown(dataset)}' may hold only lower-case letters a-z, digits and '-'.";
        if (dataset[0] == '-' || dataset[^1] == '-')
            return $"The dataset name '{dataset}' must start and end with a letter or digit.";
        return null;
    }

    /// <summary>Null when <paramref name="label"/> is a valid label, else the reason it is not.</summary>
    public static string? CheckLabel(string? label)
    {
        if (string.IsNullOrEmpty(label)) return "The label folder name is empty.";
        if (label.Length > MaxLabelLength)
            return $"The label '{Shown(label)}' is {label.Length} characters; at most {MaxLabelLength} are allowed.";
        if (!label.IsNormalized(NormalizationForm.FormC)) label = label.Normalize(NormalizationForm.FormC);
        var first = true;
        foreach (var rune in label.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            var letterOrDigit = Rune.IsLetterOrDigit(rune)
                || category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;
            if (first && !Rune.IsLetterOrDigit(rune))
                return $"The label '{Shown(label)}' must start with a letter or digit.";
            if (!letterOrDigit && rune.Value is not (' ' or '-' or '_'))
                return $"The label '{Shown(label)}' may hold only letters, digits, spaces, '-' and '_' (found "
                    + $"'{Shown(rune.ToString())}').";
            first = false;
        }
        if (label[^1] == ' ') return $"The label '{label}' ends with a space.";
        return null;
    }

    /// <summary>The form a label is stored under: Unicode NFC, so the same word typed two ways is one label.</summary>
    public static string NormalizeLabel(string label) => label.Normalize(NormalizationForm.FormC);

    // Names go back into messages; control characters and very long names would make those unreadable.
    public static string Shown(string text)
    {
        var clean = new StringBuilder();
        foreach (var c in text.Length > 80 ? text[..80] + "…" : text) clean.Append(char.IsControl(c) ? '?' : c);
        return clean.ToString();
    }
}
