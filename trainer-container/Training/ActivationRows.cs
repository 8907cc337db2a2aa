using static TorchSharp.torch;

namespace Pipeline.Trainer.Training;

/// <summary>
/// The activations entering the fine-tuned stages, one half-precision row per image and view: one tensor in memory
/// where it fits under the caches' cap, else a cache file read back a batch at a time. Either way a batch holds the
/// same bytes, so the model trained is the same.
/// </summary>
public sealed class ActivationRows : IDisposable
{
    private readonly Tensor? held;
    private readonly ScratchFile? file;
    private readonly CacheSpace? space;
    private readonly long[] rowShape;
    private readonly long rowBytes;
    private readonly long reserved;

    private ActivationRows(long rows, long[] rowShape, Device device, CacheSpace? space)
    {
        (Count, this.rowShape, Device, this.space) = (rows, rowShape, device, space);
        rowBytes = rowShape.Aggregate(2L, (n, d) => n * d); // float16: two bytes a value
        var bytes = rows * rowBytes;
        // Only a CPU's memory is capped (a file's rows are read into CPU tensors): on a GPU the tensor lives in
        // device memory, as before.
        if (space is null || device.type != TorchSharp.DeviceType.CPU || space.TryHold(bytes))
        {
            held = zeros([rows, .. rowShape], ScalarType.Float16, device).MoveToOuterDisposeScope();
            reserved = space is null ? 0 : bytes;
        }
        else file = space.CreateFile("activations");
    }

    /// <summary>Rows of <paramref name="rowShape"/> each; <paramref name="space"/> null holds them in memory.</summary>
    public static ActivationRows Create(long rows, long[] rowShape, Device device, CacheSpace? space) =>
        new(rows, rowShape, device, space);

    public long Count { get; }
    public Device Device { get; }
    public bool OnDisk => file is not null;

    /// <summary>Stores a batch (float16, N x row shape) from row <paramref name="row"/> on.</summary>
    public void Write(long row, Tensor batch)
    {
        if (held is not null)
        {
            held.narrow(0, row, batch.shape[0]).copy_(batch);
            return;
        }
        using var cpu = batch.to(ScalarType.Float16).cpu().contiguous();
        file!.Write(row * rowBytes, cpu.bytes);
    }

    /// <summary>The rows <paramref name="rows"/>, in that order (N x row shape, float16).</summary>
    public Tensor Select(long[] rows)
    {
        if (held is not null) return held.index_select(0, tensor(rows, device: held.device));
        var batch = empty([rows.Length, .. rowShape], ScalarType.Float16);
        var bytes = batch.bytes;
        for (var i = 0; i < rows.Length; i++)
            file!.Read(rows[i] * rowBytes, bytes.Slice((int)(i * rowBytes), (int)rowBytes));
        return batch;
    }

    /// <summary><paramref name="count"/> rows from <paramref name="start"/> on (float16).</summary>
    public Tensor Range(long start, long count)
    {
        if (held is not null) return held.narrow(0, start, count);
        var batch = empty([count, .. rowShape], ScalarType.Float16);
        file!.Read(start * rowBytes, batch.bytes);
        return batch;
    }

    public void Dispose()
    {
        held?.Dispose();
        file?.Dispose();
        if (reserved > 0) space!.Release(reserved);
    }
}
