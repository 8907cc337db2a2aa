using System.Net;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;
using Xunit;

namespace Pipeline.Tests;

/// <summary>
/// A model version appears whole or not at all, to every reader, and staging a crash left is cleared.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ModelVersionTests(PipelineFixture pipeline) : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("version-test-").FullName;
    private ModelStore Versions => pipeline.Service<ModelStore>();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>
    /// A version folder as the trainer writes it: a large checkpoint, the model, the report and model.json.
    /// </summary>
    private string[] WriteVersion(string tag)
    {
        var random = new Random(tag.GetHashCode());
        var files = new Dictionary<string, int>
        {
            ["checkpoint.dat"] = 24 << 20, [ModelFiles.Model] = 6 << 20,
            ["report.html"] = 64 << 10, [ModelFiles.Manifest] = 2 << 10
        };
        foreach (var (name, size) in files)
        {
            var content = new byte[size];
            random.NextBytes(content);
            File.WriteAllBytes(Path.Combine(folder, name), content);
        }
        return files.Keys.Order(StringComparer.Ordinal).ToArray();
    }

    private async Task<string[]> FilesAsync(string dataset, string version)
    {
        var names = new List<string>();
        await foreach (var blob in pipeline.Storage.Models.GetBlobsAsync(BlobTraits.None, BlobStates.None,
            $"{dataset}/{version}/", CancellationToken.None))
            names.Add(blob.Name[($"{dataset}/{version}/".Length)..]);
        return names.Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public async Task A_reader_polling_during_an_upload_never_sees_a_partial_version()
    {
        const string dataset = "staging";
        const string version = "20261201-120000-aaaaaa";
        var expected = WriteVersion("whole");

        var upload = Versions.UploadAsync(dataset, version, folder, CancellationToken.None);
        int polls = 0, sawStaging = 0, sawWhole = 0;
        while (true)
        {
            var finished = upload.IsCompleted;
            polls++;
            var raw = await FilesAsync(dataset, version);
            var listed = await Versions.ListVersionsAsync(dataset, CancellationToken.None);
            using var report = await pipeline.Http.GetAsync($"datasets/{dataset}/report?version={version}");
            var files = await FilesAsync(dataset, version);
            if (listed.Contains(version) || report.StatusCode == HttpStatusCode.OK)
            {
                // Once any reader sees the version, every one of its files is there.
                Assert.Equal(expected, files);
                sawWhole++;
            }
            else
            {
                Assert.Equal(HttpStatusCode.NotFound, report.StatusCode);
                if (raw.Length > 0) sawStaging++;
            }
            if (finished) break;
        }
        await upload;

        Assert.Equal([version], await Versions.ListVersionsAsync(dataset, CancellationToken.None));
        Assert.True(sawWhole > 0, "the finished version was never seen");
        // The polling did look while files were in storage but the version was not yet whole.
        Assert.True(sawStaging > 0, $"no poll of {polls} fell in the upload; make the checkpoint larger");
    }

    [Fact]
    public async Task Staging_a_crashed_attempt_left_is_cleared_by_the_next_upload()
    {
        const string dataset = "staging-crash";
        const string crashed = "20261201-110000-bbbbbb";
        const string retried = "20261201-113000-cccccc";
        // An attempt of another job died mid-upload: a checkpoint and no manifest.
        await pipeline.Storage.Models.GetBlobClient($"{dataset}/{crashed}/checkpoint.dat")
            .UploadAsync(new BinaryData(new byte[1024]));
        // An earlier attempt of this job got as far as its manifest, with a file this attempt does not write.
        foreach (var name in new[] { ModelFiles.Manifest, ModelFiles.Model, "old-extra.bin" })
            await pipeline.Storage.Models.GetBlobClient($"{dataset}/{retried}/{name}")
                .UploadAsync(new BinaryData(new byte[16]));
        Assert.Equal([retried], await Versions.ListVersionsAsync(dataset, CancellationToken.None));

        var expected = WriteVersion("retry");
        await Versions.UploadAsync(dataset, retried, folder, CancellationToken.None);

        Assert.Empty(await FilesAsync(dataset, crashed));
        Assert.Equal(expected, await FilesAsync(dataset, retried));
        Assert.Equal([retried], await Versions.ListVersionsAsync(dataset, CancellationToken.None));
        var model = await pipeline.Storage.Models.GetBlobClient($"{dataset}/{retried}/{ModelFiles.Model}")
            .DownloadContentAsync();
        Assert.Equal(File.ReadAllBytes(Path.Combine(folder, ModelFiles.Model)), model.Value.Content.ToArray());
    }
}
