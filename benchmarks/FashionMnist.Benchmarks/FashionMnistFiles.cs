using System.IO.Compression;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.FashionMnist.Benchmarks;

/// <summary>
/// Fashion-MNIST as Debian's <c>dataset-fashion-mnist</c> installs it: IDX files (gzip) of 28 x 28 greyscale images
/// and their labels, 60,000 to train and 10,000 to test, 10 classes.
/// </summary>
public sealed class FashionMnistFiles
{
    public const string DefaultFolder = "/usr/share/datasets/fashion-mnist";
    public const int Side = 28;

    /// <summary>The classes in label order, named as folders may be (Zalando's names: T-shirt/top, ..., Ankle
    /// boot).</summary>
    public static readonly string[] Classes =
    [
        "tshirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot",
    ];

    private static readonly PngEncoder Encoder = new()
    {
        ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit8,
    };

    public required byte[] Pixels { get; init; }
    public required byte[] Labels { get; init; }
    public int Count => Labels.Length;

    /// <summary>Why the files cannot be read (the package is not installed), or null.</summary>
    public static string? Missing(string folder)
    {
        var absent = new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz" }.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
        return absent.Count == 0 ? null
            : $"Fashion-MNIST is not in {folder} (no {string.Join(", ", absent)}): install Debian's package " +
                "(sudo apt-get install dataset-fashion-mnist) or pass --source <folder with the IDX files>.";
    }

    /// <summary>The "train" (60,000) or "t10k" (10,000) images and labels.</summary>
    public static FashionMnistFiles Read(string folder, string part)
    {
        var pixels = ReadIdx(Path.Combine(folder, $"{part}-images-idx3-ubyte.gz"), 0x803, out var count);
        var labels = ReadIdx(Path.Combine(folder, $"{part}-labels-idx1-ubyte.gz"), 0x801, out var labelCount);
        if (count != labelCount || pixels.Length != count * Side * Side)
            throw new InvalidDataException($"{part}: {count} images but {labelCount} labels.");
        return new FashionMnistFiles { Pixels = pixels, Labels = labels };
    }

    /// <summary>An IDX file's data: a big-endian magic number (type 0x08, unsigned bytes; then the dimension count),
    /// the dimensions, then the bytes.</summary>
    private static byte[] ReadIdx(string file, int magic, out int count)
    {
        using var gzip = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        var bytes = memory.ToArray();
        int Int(int at) => (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
        if (Int(0) != magic) throw new InvalidDataException($"{file} is not an IDX file of magic {magic:x}.");
        var dimensions = magic & 0xff;
        count = Int(4);
        return bytes[(4 + 4 * dimensions)..];
    }

    /// <summary>Image <paramref name="index"/> as a greyscale PNG (the same pixels always give the same
    /// bytes).</summary>
    public byte[] Png(int index)
    {
        using var image = Image.LoadPixelData<L8>(Pixels.AsSpan(index * Side * Side, Side * Side), Side, Side);
        using var stream = new MemoryStream();
        image.Save(stream, Encoder);
        return stream.ToArray();
    }

    /// <summary>
    /// A stratified, seeded subset of <paramref name="total"/> images: per class, its indices shuffled with one
    /// <c>new Random(seed)</c> taken through the classes in order, the first <c>total / 10</c> (the remainder one
    /// more each to the first classes); the indices come back in ascending order.
    /// </summary>
    public IReadOnlyList<int> Subset(int total, int seed)
    {
        var random = new Random(seed);
        var byClass = Enumerable.Range(0, Classes.Length)
            .Select(c => Enumerable.Range(0, Count).Where(i => Labels[i] == c).ToArray()).ToList();
        var chosen = new List<int>();
        for (var c = 0; c < Classes.Length; c++)
        {
            var want = total / Classes.Length + (c < total % Classes.Length ? 1 : 0);
            if (want > byClass[c].Length)
                throw new ArgumentOutOfRangeException(nameof(total),
                    $"{total} images need {want} of class {Classes[c]}; there are {byClass[c].Length}.");
            random.Shuffle(byClass[c]);
            chosen.AddRange(byClass[c].Take(want));
        }
        chosen.Sort();
        return chosen;
    }
}
