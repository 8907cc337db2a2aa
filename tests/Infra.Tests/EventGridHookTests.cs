using System.Text.RegularExpressions;

namespace Pipeline.Infra.Tests;

/// <summary>The postdeploy hooks subscribe the Split function to completed uploads only.</summary>
public sealed class EventGridHookTests
{
    public static TheoryData<string> Hooks => new() { "infra/hooks/postdeploy.sh", "infra/hooks/postdeploy.ps1" };

    [Theory]
    [MemberData(nameof(Hooks))]
    public void Hook_targets_the_Split_webhook_with_completed_upload_filters(string hook)
    {
        var script = Repository.Read(hook);
        Assert.Matches(@"splitFunction = 'Split'|split_function=""Split""", script);
        Assert.Contains("/runtime/webhooks/blobs?functionName=Host.Functions.$", script);
        Assert.Contains("systemKeys.blobs_extension", script);
        Assert.Contains("--included-event-types Microsoft.Storage.BlobCreated", script);
        Assert.Contains("--advanced-filter data.api StringIn PutBlob PutBlockList CopyBlob FlushWithClose", script);
        Assert.Matches(@"/blobServices/default/containers/\$(\(\$env:)?\{?UPLOADS_CONTAINER", script);
    }

    [Fact]
    public void Posix_hook_is_executable()
    {
        Assert.NotEqual(UnixFileMode.None,
            File.GetUnixFileMode(Repository.PathOf("infra/hooks/postdeploy.sh")) & UnixFileMode.UserExecute);
    }

    [Fact]
    public void Split_function_exists_under_the_name_the_webhook_uses()
    {
        var folder = Repository.PathOf("functions");
        Assert.True(Directory.Exists(folder),
            "functions/ does not exist yet: the Event Grid webhook targets its Split function.");
        var declared = Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Any(f => Regex.IsMatch(File.ReadAllText(f), @"\[Function\((""Split""|nameof\(Split\))\)\]"));
        Assert.True(declared,
            "No [Function(\"Split\")] in functions/: the webhook's functionName=Host.Functions.Split would not "
            + "resolve.");
    }
}
