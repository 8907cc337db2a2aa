using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Images;
using Pipeline.Core.Storage;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Processing;

namespace Pipeline.Core.Serving;

/// <summary>One accepted image as the studio lists it: <c>file</c> is its content-hash name in the split.</summary>
public sealed record ImageEntry(string Split, string Label, string File, long Bytes, DateTimeOffset LastModified);

/// <summary>GET /api/datasets/{dataset}/images: a page of a label's accepted images and how many there are.</summary>
public sealed record ImagePage(string Dataset, string? Label, string? Split, int Total, int Skip,
    IReadOnlyList<ImageEntry> Images);

/// <summary>What PUT .../images/{label}/{file} answers: where the upload went; the split decides the rest.</summary>
public sealed record ImageUploadResponse(string Dataset, string Label, string Upload, string Sha256, long Bytes);

/// <summary>The body of POST /api/datasets and its answer.</summary>
public sealed record CreateDatasetRequest(string? Name);

public sealed record CreateDatasetResponse(string Dataset, bool Created);

/// <summary>The body of POST .../images/known: SHA-256 hashes (hex) of files a client means to upload.</summary>
public sealed record KnownImagesRequest(IReadOnlyList<string>? Sha256);

public sealed record KnownImagesResponse(string Dataset, IReadOnlyList<string> Known);

/// <summary>The body of POST .../images/{split}/{label}/{file}/label.</summary>
public sealed record MoveImageRequest(string? Label);

public sealed record MoveImageResponse(string Dataset, ImageEntry From, ImageEntry To);

/// <summary>
/// A dataset's images through the API, for the studio and scripts alike: upload into <c>uploads/</c> (where the split
/// takes it as any upload), list a label's accepted images, a small thumbnail, move to another label or delete (the
/// accepted copy and the upload it came from, so that a later sweep does not bring it back; the next training sees
/// the change).
/// </summary>
public sealed class DatasetImagesApi(PipelineStorage storage, IOptions<PipelineOptions> options)
{
    public const int MaxTake = 200;
    public const int MaxKnown = 2000;
    public const int ThumbnailSide = 160;

    public long MaxImageBytes => options.Value.MaxImageBytes;

    /// <summary>Creates the dataset by writing an empty <c>dataset.json</c> (the defaults) where none is.</summary>
    public async Task<ApiResult<CreateDatasetResponse>> CreateAsync(string body, CancellationToken ct)
    {
        var request = Read<CreateDatasetRequest>(body);
        if (request?.Name is not { } name)
            return ApiResult.Fail(400, "No name", "Send the dataset's name as {\"name\":\"flowers\"}.");
        if (Names.CheckDataset(name) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        var settings = storage.Uploads.GetBlobClient(BlobPaths.DatasetSettings(name));
        try
        {
            await settings.UploadAsync(BinaryData.FromString("{}"), new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            }, ct);
            return ApiResult.Ok(new CreateDatasetResponse(name, true), 201);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return new CreateDatasetResponse(name, false);
        }
    }

    /// <summary>
    /// Writes the body to <c>uploads/{dataset}/{label}/{file}</c>: the name must be one the split takes as an image of
    /// that label, and the body within the image size limit; whether it is an image the split says (its rejection).
    /// </summary>
    /// <param name="split">train, test or val: the split the user chose (a train/test folder layout); null lets
    /// the split choose by content hash.</param>
    public async Task<ApiResult<ImageUploadResponse>> UploadAsync(string dataset, string label, string file,
        string? split, Stream body, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (split is not (null or "train" or "test" or "val"))
            return ApiResult.Fail(400, "Invalid split", $"split is train, test or val, not '{Names.Shown(split)}'.");
        var path = UploadPath.Parse(split is null ? $"{dataset}/{label}/{file}" : $"{dataset}/{split}/{label}/{file}");
        if (!path.IsValid) return ApiResult.Fail(400, "Invalid upload path", path.Reason!);
        if (path.Kind != UploadKind.Image)
            return ApiResult.Fail(400, "Not an image path", $"'{Names.Shown(file)}' is not an image name in a label.");
        using var content = new MemoryStream();
        var max = MaxImageBytes;
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            if (content.Length + read > max)
                return ApiResult.Fail(413, "Image too large",
                    $"The file is larger than the limit of {max / (1024 * 1024)} MB. Resize or recompress it.");
            content.Write(buffer, 0, read);
        }
        if (content.Length == 0) return ApiResult.Fail(400, "Empty body", "Send the image's bytes as the body.");
        content.Position = 0;
        var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(content, ct));
        content.Position = 0;
        await storage.Uploads.GetBlobClient(path.Name).UploadAsync(content, overwrite: true, ct);
        return ApiResult.Ok(new ImageUploadResponse(dataset, path.Label!, $"{StorageNames.Uploads}/{path.Name}", hash,
            content.Length), 202);
    }

    /// <summary>Which of the given hashes the dataset already holds (under any label, in either split).</summary>
    public async Task<ApiResult<KnownImagesResponse>> KnownAsync(string dataset, string body, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        var request = Read<KnownImagesRequest>(body);
        if (request?.Sha256 is not { } hashes)
            return ApiResult.Fail(400, "No hashes", "Send {\"sha256\":[\"<64 hex digits>\", ...]}.");
        if (hashes.Count > MaxKnown)
            return ApiResult.Fail(413, "Too many hashes", $"Ask about at most {MaxKnown} hashes at once.");
        var held = new HashSet<string>(StringComparer.Ordinal);
        foreach (var image in await ListAllAsync(dataset, null, null, ct))
            held.Add(Path.GetFileNameWithoutExtension(image.File));
        var known = hashes.Where(h => h is { Length: 64 } && held.Contains(h.ToLowerInvariant()[..32]))
            .Distinct().ToList();
        return new KnownImagesResponse(dataset, known);
    }

    /// <summary>A page of accepted images, newest first; <paramref name="label"/> and <paramref name="split"/>
    /// narrow it.</summary>
    public async Task<ApiResult<ImagePage>> ListAsync(string dataset, string? label, string? split, string? take,
        string? skip, CancellationToken ct)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (label is not null && Names.CheckLabel(label) is { } badLabel)
            return ApiResult.Fail(400, "Invalid label", badLabel);
        Split? only = null;
        if (split is not null)
        {
            if (ParseSplit(split) is not { } parsed)
                return ApiResult.Fail(400, "Invalid split", $"split is 'train' or 'test', not '{Names.Shown(split)}'.");
            only = parsed;
        }
        if (!Whole(take, 50, out var t) || t is < 1 or > MaxTake)
            return ApiResult.Fail(400, "Invalid take", $"take is a whole number from 1 to {MaxTake}.");
        if (!Whole(skip, 0, out var s) || s < 0)
            return ApiResult.Fail(400, "Invalid skip", "skip is a whole number of at least 0.");
        var all = await ListAllAsync(dataset, label is null ? null : Names.NormalizeLabel(label), only, ct);
        var page = all.OrderByDescending(i => i.LastModified).ThenBy(i => i.File, StringComparer.Ordinal)
            .Skip(s).Take(t).ToList();
        return new ImagePage(dataset, label, split, all.Count, s, page);
    }

    /// <summary>The image at most <see cref="ThumbnailSide"/> pixels a side, as JPEG: never the full image.</summary>
    public async Task<ApiResult<ApiFile>> ThumbnailAsync(string dataset, string split, string label, string file,
        CancellationToken ct)
    {
        var found = Locate(dataset, split, label, file);
        if (found.Problem is { } problem) return problem;
        var (where, name) = found.Value;
        var limits = ImageLimits.From(options.Value);
        byte[] content;
        try
        {
            var blob = storage.SplitContainer(where).GetBlobClient(name);
            var properties = await blob.GetPropertiesAsync(cancellationToken: ct);
            if (properties.Value.ContentLength > limits.MaxBytes)
                return ApiResult.Fail(422, "Image too large", "The stored image is over the size limit.");
            content = (await blob.DownloadContentAsync(ct)).Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404) { return NoImage(dataset, split, label, file); }
        try
        {
            using var image = ImageFile.Decode(content, limits);
            image.Mutate(x => x.Resize(new ResizeOptions
            {
                Mode = ResizeMode.Max, Size = new Size(ThumbnailSide, ThumbnailSide),
            }));
            var jpeg = new MemoryStream();
            await image.SaveAsJpegAsync(jpeg, new JpegEncoder { Quality = 80 }, ct);
            jpeg.Position = 0;
            return new ApiFile(jpeg, "image/jpeg");
        }
        catch (ImageRejectedException e) { return ApiResult.Fail(422, "Image cannot be shown", e.Reason); }
    }

    /// <summary>Body <c>{"label":"squares"}</c>: the image moves to that label in the same split.</summary>
    public async Task<ApiResult<MoveImageResponse>> MoveAsync(string dataset, string split, string label, string file,
        string body, CancellationToken ct)
    {
        var found = Locate(dataset, split, label, file);
        if (found.Problem is { } problem) return problem;
        var request = Read<MoveImageRequest>(body);
        if (request?.Label is not { } target)
            return ApiResult.Fail(400, "No label", "Send the new label as {\"label\":\"squares\"}.");
        if (Names.CheckLabel(target) is { } badLabel) return ApiResult.Fail(400, "Invalid label", badLabel);
        target = Names.NormalizeLabel(target);
        var (where, name) = found.Value;
        var container = storage.SplitContainer(where);
        var source = container.GetBlobClient(name);
        BlobProperties properties;
        try { properties = await source.GetPropertiesAsync(cancellationToken: ct); }
        catch (RequestFailedException e) when (e.Status == 404) { return NoImage(dataset, split, label, file); }
        var before = new ImageEntry(SplitName(where), Names.NormalizeLabel(label), file, properties.ContentLength,
            properties.LastModified);
        var after = before with { Label = target };
        if (target == before.Label) return new MoveImageResponse(dataset, before, after);
        var content = (await source.DownloadContentAsync(ct)).Value.Content;
        try
        {
            await container.GetBlobClient($"{dataset}/{target}/{file}").UploadAsync(content, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                HttpHeaders = new BlobHttpHeaders { ContentType = properties.ContentType },
                Metadata = properties.Metadata,
            }, ct);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412) { } // already there: one image
        await source.DeleteIfExistsAsync(cancellationToken: ct);
        await DeleteUploadAsync(dataset, before.Label, properties.Metadata, ct);
        return new MoveImageResponse(dataset, before, after);
    }

    public async Task<ApiResult<ImageEntry>> DeleteAsync(string dataset, string split, string label, string file,
        CancellationToken ct)
    {
        var found = Locate(dataset, split, label, file);
        if (found.Problem is { } problem) return problem;
        var (where, name) = found.Value;
        var blob = storage.SplitContainer(where).GetBlobClient(name);
        try
        {
            var properties = (await blob.GetPropertiesAsync(cancellationToken: ct)).Value;
            await blob.DeleteIfExistsAsync(cancellationToken: ct);
            await DeleteUploadAsync(dataset, Names.NormalizeLabel(label), properties.Metadata, ct);
            return new ImageEntry(SplitName(where), Names.NormalizeLabel(label), file, properties.ContentLength,
                properties.LastModified);
        }
        catch (RequestFailedException e) when (e.Status == 404) { return NoImage(dataset, split, label, file); }
    }

    /// <summary>
    /// The upload the image came from, when it was a file in this label's folder: gone, so that a sweep after a
    /// restart does not split it back in. An upload named by labels.csv stays (its row still names the label).
    /// </summary>
    private async Task DeleteUploadAsync(string dataset, string label, IDictionary<string, string> metadata,
        CancellationToken ct)
    {
        if (!metadata.TryGetValue("source", out var escaped)) return;
        var upload = UploadPath.Parse(Uri.UnescapeDataString(escaped));
        if (!upload.IsValid || upload.Dataset != dataset || upload.Kind != UploadKind.Image || upload.Label != label)
            return;
        await storage.Uploads.GetBlobClient(upload.Name).DeleteIfExistsAsync(cancellationToken: ct);
    }

    private async Task<List<ImageEntry>> ListAllAsync(string dataset, string? label, Split? only, CancellationToken ct)
    {
        var images = new List<ImageEntry>();
        Split[] splits = only is { } one ? [one] : [Split.Train, Split.Test];
        foreach (var split in splits)
        {
            var prefix = label is null ? $"{dataset}/" : $"{dataset}/{label}/";
            await foreach (var blob in storage.SplitContainer(split).GetBlobsAsync(BlobTraits.None, BlobStates.None,
                prefix, ct))
            {
                var parts = blob.Name.Split('/');
                if (parts.Length != 3) continue;
                images.Add(new ImageEntry(SplitName(split), parts[1], parts[2], blob.Properties.ContentLength ?? 0,
                    blob.Properties.LastModified ?? DateTimeOffset.MinValue));
            }
        }
        return images;
    }

    private static ApiResult<(Split Split, string Name)> Locate(string dataset, string split, string label,
        string file)
    {
        if (Names.CheckDataset(dataset) is { } badName) return ApiResult.Fail(400, "Invalid dataset name", badName);
        if (ParseSplit(split) is not { } where)
            return ApiResult.Fail(400, "Invalid split", $"split is 'train' or 'test', not '{Names.Shown(split)}'.");
        if (Names.CheckLabel(label) is { } badLabel) return ApiResult.Fail(400, "Invalid label", badLabel);
        // Accepted images are named by their content hash: nothing else is one.
        var hash = Path.GetFileNameWithoutExtension(file);
        if (hash.Length != 32 || !hash.All(char.IsAsciiHexDigitLower) || file.Contains('/'))
            return ApiResult.Fail(400, "Invalid image name",
                "An accepted image is named by its content hash, as GET .../images lists it.");
        return (where, $"{dataset}/{Names.NormalizeLabel(label)}/{file}");
    }

    private static ApiProblem NoImage(string dataset, string split, string label, string file) =>
        ApiResult.Fail(404, "No such image",
            $"Dataset '{dataset}' has no image '{file}' under '{Names.Shown(label)}' " +
            $"in {split} (moved or deleted?). GET /api/datasets/{dataset}/images lists them.");

    private static Split? ParseSplit(string split) => split switch
    {
        "train" => Split.Train,
        "test" => Split.Test,
        _ => null,
    };

    private static string SplitName(Split split) => split == Split.Train ? "train" : "test";

    /// <summary>A small JSON body, or null when it is empty or not that JSON.</summary>
    private static T? Read<T>(string body) where T : class
    {
        try { return string.IsNullOrWhiteSpace(body) ? null : JsonSerializer.Deserialize<T>(body, Json.Options); }
        catch (JsonException) { return null; }
    }

    private static bool Whole(string? text, int fallback, out int value)
    {
        value = fallback;
        return text is null || int.TryParse(text, System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out value);
    }
}
