using Pipeline.Core.Images;
using Pipeline.Tests;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace Pipeline.Core.Tests;

public class ImageFileTests
{
    private static MemoryStream Encode<TPixel>(Image<TPixel> image,
        SixLabors.ImageSharp.Formats.IImageEncoder encoder) where TPixel : unmanaged, IPixel<TPixel>
    {
        var stream = new MemoryStream();
        image.Save(stream, encoder);
        stream.Position = 0;
        return stream;
    }

    public static TheoryData<string> Formats => ["jpeg", "png", "gif", "bmp", "webp"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Decodes_every_supported_format_to_rgb(string format)
    {
        using var source = GeneratedImages.Draw(0, new Random(3), 64);
        SixLabors.ImageSharp.Formats.IImageEncoder encoder = format switch
        {
            "jpeg" => new JpegEncoder(),
            "png" => new PngEncoder(),
            "gif" => new GifEncoder(),
            "bmp" => new BmpEncoder(),
            _ => new WebpEncoder { FileFormat = WebpFileFormatType.Lossless },
        };
        using var stream = Encode(source, encoder);
        using var image = ImageFile.Decode(stream, ImageLimits.Default);
        Assert.Equal(64, image.Width);
        Assert.Equal(64, image.Height);
        // The red background survives every codec (GIF and JPEG are lossy, so a tolerance).
        Assert.InRange(image[2, 2].R, 150, 255);
        Assert.InRange(image[2, 2].B, 0, 100);
    }

    [Fact]
    public void Honours_exif_orientation()
    {
        using var source = new Image<Rgb24>(40, 20, new Rgb24(0, 0, 255));
        source.Metadata.ExifProfile = new ExifProfile();
        source.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6); // rotate 90 degrees clockwise to view
        using var stream = Encode(source, new JpegEncoder());
        using var image = ImageFile.Decode(stream, ImageLimits.Default);
        Assert.Equal((20, 40), (image.Width, image.Height));
    }

    [Fact]
    public void Turns_greyscale_16_bit_and_transparent_images_into_rgb()
    {
        using (var grey = new Image<L8>(32, 32, new L8(128)))
        using (var stream = Encode(grey, new PngEncoder()))
        using (var image = ImageFile.Decode(stream, ImageLimits.Default))
            Assert.Equal(new Rgb24(128, 128, 128), image[5, 5]);

        using (var deep = new Image<Rgba64>(32, 32, new Rgba64(65535, 0, 0, 65535)))
        using (var stream = Encode(deep, new PngEncoder { BitDepth = PngBitDepth.Bit16 }))
        using (var image = ImageFile.Decode(stream, ImageLimits.Default))
            Assert.Equal(new Rgb24(255, 0, 0), image[5, 5]);

        // Fully transparent pixels become white, whatever colour they hide.
        using (var clear = new Image<Rgba32>(32, 32, new Rgba32(0, 0, 0, 0)))
        using (var stream = Encode(clear, new PngEncoder()))
        using (var image = ImageFile.Decode(stream, ImageLimits.Default))
            Assert.Equal(new Rgb24(255, 255, 255), image[5, 5]);
    }

    [Fact]
    public void Refuses_empty_oversized_and_non_image_files_with_reasons()
    {
        Assert.Contains("empty", Reason(new MemoryStream()));
        Assert.Contains("supported format", Reason(new MemoryStream("just some text, not pixels"u8.ToArray())));
        using var small = GeneratedImages.Draw(1, new Random(1), 64);
        var bytes = Encode(small, new PngEncoder()).ToArray();
        Assert.Contains("limit", Reason(new MemoryStream(bytes), ImageLimits.Default with { MaxBytes = 100 }));
        Assert.Contains("at least", Reason(new MemoryStream(bytes), ImageLimits.Default with { MinSide = 100 }));
    }

    [Fact]
    public void Refuses_too_many_pixels_from_the_header_before_decoding()
    {
        // A 64x64 BMP whose header claims 30000x30000: decoding it would allocate gigabytes.
        using var small = GeneratedImages.Draw(1, new Random(1), 64);
        var bytes = Encode(small, new BmpEncoder()).ToArray();
        BitConverter.GetBytes(30000).CopyTo(bytes, 18);
        BitConverter.GetBytes(30000).CopyTo(bytes, 22);
        var reason = Reason(new MemoryStream(bytes));
        Assert.Contains("30000x30000", reason);
        Assert.Contains("megapixels", reason);
    }

    [Theory]
    [InlineData("png")]
    [InlineData("jpeg")]
    public void Refuses_a_truncated_file(string format)
    {
        // ImageSharp itself decodes a cut-off JPEG or PNG without complaint, filling the rest with grey.
        using var source = GeneratedImages.Draw(2, new Random(1), 128);
        var bytes = Encode(source, format == "png" ? new PngEncoder() : new JpegEncoder()).ToArray();
        var e = Assert.Throws<ImageRejectedException>(() => ImageFile.Decode(bytes[..(bytes.Length * 2 / 3)],
            ImageLimits.Default).Dispose());
        Assert.Equal(ImageProblem.Corrupt, e.Problem);
        Assert.Contains("truncated", e.Reason);
    }

    [Fact]
    public void Tells_an_unsupported_image_format_from_a_file_that_is_no_image()
    {
        using var source = GeneratedImages.Draw(0, new Random(1), 32);
        var tiff = Encode(source, new SixLabors.ImageSharp.Formats.Tiff.TiffEncoder()).ToArray();
        var e = Assert.Throws<ImageRejectedException>(() => ImageFile.Decode(tiff, ImageLimits.Default).Dispose());
        Assert.Equal(ImageProblem.UnsupportedFormat, e.Problem);
        Assert.Contains("TIFF", e.Reason);
        var text = Assert.Throws<ImageRejectedException>(() => ImageFile.Decode("hello"u8.ToArray(),
            ImageLimits.Default).Dispose());
        Assert.Equal(ImageProblem.NotAnImage, text.Problem);
    }

    [Fact]
    public void Refuses_an_unseekable_stream_beyond_the_byte_limit_without_reading_it_all()
    {
        var endless = new EndlessStream();
        Assert.Contains("larger than the limit", Reason(endless, ImageLimits.Default with { MaxBytes = 1_000_000 }));
        Assert.True(endless.BytesRead < 2_000_000);
    }

    private static string Reason(Stream stream, ImageLimits? limits = null) =>
        Assert.Throws<ImageRejectedException>(() => ImageFile.Decode(stream,
            limits ?? ImageLimits.Default).Dispose()).Reason;

    private sealed class EndlessStream : Stream
    {
        public long BytesRead;
        public override int Read(byte[] buffer, int offset, int count) { BytesRead += count; return count; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
