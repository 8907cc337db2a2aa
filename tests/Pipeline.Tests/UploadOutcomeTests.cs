using Xunit;

namespace Pipeline.Tests;

/// <summary>
/// Every blob in uploads ends in train, test or rejected: names that the storage SDK cannot address (its URL would
/// resolve '.' and '..') or that Azure would refuse, sent as raw requests the way a hostile client sends them.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class UploadOutcomeTests(PipelineFixture pipeline)
{
    private const string Dataset = "odd-names";

    public static TheoryData<string, string, string> Names => new()
    {
        // sent as, stored as, what the reason says
        { $"{Dataset}/circles/../a.jpg", $"{Dataset}/circles/../a.jpg", "'..'" },
        { $"{Dataset}/circles/%2E%2E/b.jpg", $"{Dataset}/circles/../b.jpg", "'..'" },
        { $"{Dataset}/circles%2F..%2Fc.jpg", $"{Dataset}/circles/../c.jpg", "'..'" },
        { $"{Dataset}/./circles/d.jpg", $"{Dataset}/./circles/d.jpg", "'.'" },
        { $"{Dataset}/circles/", $"{Dataset}/circles/", "ends with '/'" },
        { $"{Dataset}/circles/{new string('e', 1100)}.jpg", $"{Dataset}/circles/{new string('e', 1100)}.jpg",
            "at most 1024" },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public async Task An_upload_the_SDK_cannot_address_is_rejected_with_its_reason(string sent, string stored,
        string reason)
    {
        Assert.Equal(201, await RawBlobRequest.PutAsync(pipeline.Storage.Uploads, sent, GeneratedImages.Jpeg(0,
            new Random(sent.Length))));
        // The blob is there under the name storage gave it...
        Assert.Contains(stored, await UploadNamesAsync());

        // ...and it has an outcome: a rejection record that says why, keyed by the name's hash.
        var status = await pipeline.WaitForAsync(Dataset, s => s.Rejected.Any(r => r.Path == stored),
            $"a rejection of {stored[..Math.Min(60, stored.Length)]}", 60);
        Assert.Contains(reason, status.Rejected.Single(r => r.Path == stored).Reason);
        Assert.Equal(0, status.TrainImages + status.TestImages);
    }

    private async Task<List<string>> UploadNamesAsync()
    {
        var names = new List<string>();
        await foreach (var blob in pipeline.Storage.Uploads.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None,
            Azure.Storage.Blobs.Models.BlobStates.None, $"{Dataset}/", CancellationToken.None)) names.Add(blob.Name);
        return names;
    }
}
