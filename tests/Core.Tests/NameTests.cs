using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Xunit;

namespace Pipeline.Core.Tests;

public sealed class NameTests
{
    [Theory]
    [InlineData("flowers")]
    [InlineData("cats-vs-dogs")]
    [InlineData("a1")]
    public void Dataset_names_that_a_path_and_a_url_carry_safely_are_accepted(string name)
        => Assert.Null(Names.CheckDataset(name));

    [Theory]
    [InlineData("")]
    [InlineData("Flowers")]
    [InlineData("my_set")]
    [InlineData("-lead")]
    [InlineData("trail-")]
    [InlineData("dots.in.name")]
    [InlineData("space name")]
    [InlineData("%2e%2e")]
    public void Other_dataset_names_are_refused_with_a_reason(string name) => Assert.NotNull(Names.CheckDataset(name));

    [Fact]
    public void A_dataset_name_longer_than_63_characters_is_refused() =>
        Assert.Contains("63", Names.CheckDataset(new string('a', 64)));

    [Theory]
    [InlineData("cats")]
    [InlineData("Golden Retriever")]
    [InlineData("sun-flower_2")]
    [InlineData("Äpfel")]
    [InlineData("猫")]
    [InlineData("हिन्दी")]
    public void Labels_of_letters_and_digits_of_any_script_are_accepted(string label)
        => Assert.Null(Names.CheckLabel(label));

    [Theory]
    [InlineData("")]
    [InlineData(" leading")]
    [InlineData("trailing ")]
    [InlineData("a*b")]
    [InlineData("semi;colon")]
    [InlineData("tab\tlabel")]
    [InlineData("_hidden")]
    public void Other_labels_are_refused_with_a_reason(string label) => Assert.NotNull(Names.CheckLabel(label));

    [Fact]
    public void A_label_longer_than_100_characters_is_refused()
        => Assert.Contains("100", Names.CheckLabel(new string('x', 101)));

    [Theory]
    [InlineData("flowers/rose/a.jpg", "rose", null)]
    [InlineData("flowers/train/rose/a.jpg", "rose", Split.Train)]
    [InlineData("flowers/test/rose/a.jpg", "rose", Split.Test)]
    [InlineData("flowers/val/rose/a.jpg", "rose", Split.Test)]
    public void Upload_paths_give_dataset_label_and_the_users_split(string path, string label, Split? split)
    {
        var parsed = UploadPath.Parse(path);
        Assert.True(parsed.IsValid, parsed.Reason);
        Assert.Equal(("flowers", label, split), (parsed.Dataset, parsed.Label, parsed.UserSplit));
    }

    [Fact]
    public void An_image_beside_labels_csv_takes_its_labels_from_it()
    {
        var loose = UploadPath.Parse("flowers/a.jpg");
        Assert.Equal((UploadKind.Unlabelled, null, "a.jpg"), (loose.Kind, loose.Label, loose.FileName));
        Assert.Equal(UploadKind.Labels, UploadPath.Parse("flowers/labels.csv").Kind);
        Assert.Contains("not in a label folder", UploadPath.NotLabelled("flowers", "a.jpg"));
        Assert.Contains("flowers/labels.csv", UploadPath.NotLabelled("flowers", "a.jpg"));
    }

    [Fact]
    public void Labels_csv_rows_give_each_file_its_labels_and_name_the_lines_they_cannot_use()
    {
        var problems = new List<(int Line, string Reason)>();
        var rows = LabelsCsv.Parse("file,labels\r\nbeach.jpg,sea; sand\nempty.jpg,\n\"q.jpg\",\"sea\"\nbad.jpg,se*a\n",
            problems);
        Assert.Equal(["beach.jpg", "empty.jpg", "q.jpg"], rows.Select(r => r.File));
        Assert.Equal(["sea", "sand"], rows[0].Labels);
        Assert.Empty(rows[1].Labels);
        Assert.Equal(["sea"], rows[2].Labels);
        var problem = Assert.Single(problems);
        Assert.Equal(5, problem.Line);
        Assert.Contains("only letters", problem.Reason);
    }

    [Theory]
    [InlineData("flowers/train/a.jpg", "label folders")]
    [InlineData("flowers/a/b/c/d.jpg", "too deep")]
    [InlineData("flowers/../x/a.jpg", "'..'")]
    [InlineData("Flowers/rose/a.jpg", "lower-case")]
    [InlineData("flowers/ro*se/a.jpg", "only letters")]
    public void Other_upload_paths_are_refused_with_a_reason(string path, string reason)
    {
        var parsed = UploadPath.Parse(path);
        Assert.False(parsed.IsValid);
        Assert.Contains(reason, parsed.Reason);
    }

    [Fact]
    public void Control_blobs_are_recognised()
    {
        Assert.Equal(UploadKind.TrainControl, UploadPath.Parse("flowers/train.json").Kind);
        Assert.Equal(UploadKind.DatasetSettings, UploadPath.Parse("flowers/dataset.json").Kind);
    }

    [Fact]
    public void The_split_follows_the_content_hash_and_the_fraction()
    {
        var hashes = Enumerable.Range(0, 2000)
            .Select(i
                => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))))
            .ToList();
        var share = hashes.Count(h => UploadSorter.InTest(h, 0.2)) / (double)hashes.Count;
        Assert.InRange(share, 0.17, 0.23);
        Assert.All(hashes, h => Assert.Equal(UploadSorter.InTest(h, 0.2), UploadSorter.InTest(h, 0.2)));
        Assert.DoesNotContain(hashes, h => UploadSorter.InTest(h, 0));
    }
}
