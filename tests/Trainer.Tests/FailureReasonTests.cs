using Pipeline.Trainer.Job;
using TorchSharp;
using Xunit;

namespace Pipeline.Trainer.Tests;

/// <summary>The reason a failed job shows the user: libtorch's message without its native stack, short.</summary>
public class FailureReasonTests
{
    // The shape of c10::Error's message as TorchSharp passes it on: the error, where it was raised, the frames.
    private const string Libtorch = """
        Expected 4-dimensional input for 4-dimensional weight [64, 3, 7, 7], but got 3-dimensional input of size
        [3, 224, 224] instead
        Exception raised from batchify at /pytorch/aten/src/ATen/native/Convolution.cpp:756 (most recent call first):
        frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x6b (0x7f3c1e2b3d8b in /usr/lib/libc10.so)
        frame #1: at::native::_convolution(at::Tensor const&, at::Tensor const&) + 0x1c7 (0x7f3c2a1b in libtorch_cpu.so)
        frame #2: <unknown function> + 0x2f6a1d1 (0x7f3c2b3a41d1 in /usr/lib/libtorch_cpu.so)
        frame #3: THSNN_Conv2d_forward + 0x44 (0x7f3c3d0e1a44 in /app/runtimes/linux-x64/native/libLibTorchSharp.so)
        """;

    [Fact]
    public void Libtorch_native_frames_are_left_to_the_log()
    {
        var reason = FailureReason.Of($"Training failed: {Libtorch}");

        Assert.Equal("Training failed: Expected 4-dimensional input for 4-dimensional weight [64, 3, 7, 7], but got "
            + "3-dimensional input of size [3, 224, 224] instead " + FailureReason.SeeLog, reason);
    }

    [Fact]
    public void A_long_message_is_cut_and_points_to_the_log()
    {
        var reason = FailureReason.Of("Training failed: " + string.Concat(Enumerable.Repeat("out of memory; ", 100)));

        Assert.True(reason.Length <= FailureReason.MaxChars, reason);
        Assert.StartsWith("Training failed: out of memory;", reason);
        Assert.EndsWith("… " + FailureReason.SeeLog, reason);
    }

    [Fact]
    public void A_short_message_stays_as_it_is() =>
        Assert.Equal("Training failed: no images.", FailureReason.Of("Training failed: no images."));

    [Fact]
    public void A_real_torchsharp_error_keeps_its_first_line()
    {
        using var image = torch.zeros([1, 1, 3, 224, 224]); // five dimensions where conv2d takes three or four
        using var weight = torch.zeros(64, 3, 7, 7);
        var error = Assert.ThrowsAny<Exception>(() => torch.nn.functional.conv2d(image, weight));

        var reason = FailureReason.Of($"Training failed: {error.Message}");

        Assert.Contains("Exception raised from", error.Message); // what libtorch appends, so the test means something
        Assert.Equal($"Training failed: {error.Message.Split('\n')[0].Trim()} {FailureReason.SeeLog}", reason);
    }
}
