using TorchSharp;
using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>The GPU when libtorch sees one (the CUDA build in the container image), the CPU otherwise.</summary>
public static class TrainingDevice
{
    public static Device Current { get; } = cuda.is_available() ? CUDA : CPU;

    public static string Describe() => Current.type == DeviceType.CUDA
        ? $"cuda ({cuda.device_count()} GPU)"
        : $"cpu ({Environment.ProcessorCount} cores, {get_num_threads()} threads)";
}
