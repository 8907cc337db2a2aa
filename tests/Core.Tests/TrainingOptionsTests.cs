using System.Reflection;
using System.Text.Json;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Tests;

/// <summary>TrainingOptions.Validate is the one rule for the API, train.json, --options files and the trainer's
/// flags.</summary>
public sealed class TrainingOptionsTests
{
    [Fact]
    public void The_defaults_and_the_fast_setting_are_valid()
    {
        Assert.Empty(new TrainingOptions().Validate());
        Assert.Empty(TrainingOptions.Fast.Validate());
        Assert.Equal(new TrainingOptions(), TrainingOptions.Parse("{}", out _));
        Assert.Equal(new TrainingOptions(), TrainingOptions.Parse("  ", out _));
    }

    public static TheoryData<string, string> Invalid => new()
    {
        { """{"headEpochs":0}""", "headEpochs (--head-epochs) must be a whole number of at least 1, not 0." },
        { """{"batchSize":-3}""", "batchSize (--batch-size)" },
        { """{"resize":"stretch"}""", "resize (--resize) must be one of crop, squash, not 'stretch'." },
        { """{"headOptimizer":"adagrad"}""",
            "headOptimizer (--head-optimizer) must be one of lbfgs, adamw, adam, rmsprop, sgd" },
        { """{"validationFraction":0.95}""",
            "validationFraction (--validation) must be at least 0 and below 0.9, not 0.95." },
        { """{"fineTuneStages":5}""",
            "fineTuneStages (--fine-tune-stages) must be a whole number from 0 to 4, not 5." },
        { """{"headLearningRate":0}""", "headLearningRate (--head-lr) must be above 0, not 0." },
        { """{"dropout":1}""", "dropout (--dropout)" },
        { """{"augmentation":{"zoom":2}}""", "augmentation.zoom (--zoom) must be at least 0 and below 1, not 2." },
        { """{"augmentation":null}""", "augmentation must be an object" },
        { """{"seed":"x"}""", "not valid JSON" },
        { "null", "send {} for the defaults" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_options_are_refused_with_their_json_name_and_flag(string json, string reason)
    {
        Assert.Null(TrainingOptions.Parse(json, out var said));
        Assert.Contains(reason, said);
    }

    [Fact]
    public void Every_problem_is_named_not_only_the_first()
    {
        var problems = (new TrainingOptions() with { HeadEpochs = 0, BatchSize = 0 }).Validate();
        Assert.Equal(2, problems.Count);
    }

    [Fact]
    public void Every_option_of_the_record_has_an_entry_in_the_list_so_it_gets_a_flag_and_a_rule()
    {
        var listed = TrainingOptions.All.Select(o => o.Json).ToHashSet();
        var missing = Settable(typeof(TrainingOptions), "").Where(name => !listed.Contains(name)).ToList();
        Assert.True(missing.Count == 0, "Not in TrainingOptions.All: " + string.Join(", ", missing));
    }

    [Fact]
    public void Each_entry_reads_and_writes_its_own_property_and_accepts_its_default()
    {
        var defaults = new TrainingOptions();
        foreach (var option in TrainingOptions.All)
        {
            Assert.Null(option.Check(option.Read(defaults)));
            var changed = option.Write(defaults, option.Type == typeof(int) ? 3 : option.Type == typeof(double) ? 0.05
                : option.Type == typeof(bool) ? true : option.ValueName.Split('|')[^1]);
            Assert.NotEqual(option.Read(defaults), option.Read(changed));
            // The entry names the JSON property it writes.
            var json = JsonSerializer.SerializeToElement(changed, Json.Options);
            foreach (var part in option.Json.Split('.')) json = json.GetProperty(part);
            Assert.Equal(JsonSerializer.SerializeToElement(option.Read(changed), Json.Options).ToString(),
                json.ToString());
        }
    }

    [Fact]
    public void Flags_are_unique_and_spelled_as_flags()
    {
        Assert.Equal(TrainingOptions.All.Count, TrainingOptions.All.Select(o => o.Flag).Distinct().Count());
        Assert.All(TrainingOptions.All, o => Assert.Matches("^--[a-z][a-z0-9]*(-[a-z0-9]+)*$", o.Flag));
    }

    private static IEnumerable<string> Settable(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is not null))
        {
            var name = prefix + JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            if (property.PropertyType == typeof(AugmentationOptions))
                foreach (var inner in Settable(property.PropertyType, name + ".")) yield return inner;
            else yield return name;
        }
    }
}
