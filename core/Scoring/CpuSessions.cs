using Microsoft.ML.OnnxRuntime;

namespace Pipeline.Core.Scoring;

/// <summary>
/// ONNX Runtime sessions as this project runs them on a CPU: the trainer's passes, its evaluation and the scorer.
/// </summary>
public static class CpuSessions
{
    /// <summary>
    /// Intra-op threads: <paramref name="threads"/>, or with 0 one per core the process may use. Left to itself, ONNX
    /// Runtime counts physical cores from the CPU's description: on a 2-core AMD EPYC machine here it ran one thread,
    /// and the trainer's passes used one core of two (docs/benchmarks.md); in a container it counts the host's cores,
    /// not the container's limit, which .NET's count honours. Idle threads sleep instead of spinning: spinning took the
    /// cores from concurrent runs and other processes.
    /// </summary>
    public static SessionOptions Options(GraphOptimizationLevel level, int threads = 0)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = level,
            IntraOpNumThreads = threads > 0 ? threads : Environment.ProcessorCount,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }
}
