using Microsoft.Win32.SafeHandles;
using Pipeline.Core.Contract;

namespace Pipeline.Trainer.Training;

/// <summary>
/// Where a run keeps its caches (decoded images, the activations entering the fine-tuned stages): in memory while
/// they fit under the memory cap, the rest in files of a scratch folder, read back in batches. The folder and its
/// files are deleted when the run ends, whether it succeeded, failed or was cancelled.
/// </summary>
public sealed class CacheSpace : IDisposable
{
    /// <summary>
    /// Memory the caches may take when no cap is given: 2,000 training images (300 MB of pixels, 200 MB of plain
    /// activations) stay in memory; augmented views of them spill, which keeps a run's peak under 2 GB.
    /// </summary>
    public const int DefaultMemoryCapMB = PipelineOptions.DefaultTrainerMemoryCapMB;

    private const long MB = 1024 * 1024;
    private readonly long cap;
    private readonly string parent;
    private readonly object gate = new();
    private readonly List<ScratchFile> files = [];
    private string? folder;
    private long held, peakHeld, onDisk, peakOnDisk;
    private bool disposed;

    /// <param name="memoryCapMB">Memory the caches may hold; 0 puts every cache on disk.</param>
    /// <param name="parent">Where the scratch folder goes; the system's temporary folder by default.</param>
    public CacheSpace(int memoryCapMB = DefaultMemoryCapMB, string? parent = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(memoryCapMB);
        cap = memoryCapMB * MB;
        MemoryCapMB = memoryCapMB;
        this.parent = parent ?? Path.GetTempPath();
    }

    public int MemoryCapMB { get; }

    /// <summary>The scratch folder, once a cache has spilled; deleted on <see cref="Dispose"/>.</summary>
    public string? Folder => folder;

    /// <summary>Holds <paramref name="bytes"/> in memory if they fit under the cap; false: the cache goes to
    /// disk.</summary>
    public bool TryHold(long bytes)
    {
        lock (gate)
        {
            if (held + bytes > cap) return false;
            held += bytes;
            peakHeld = Math.Max(peakHeld, held);
            return true;
        }
    }

    /// <summary>Gives back what <see cref="TryHold"/> took, when its cache is freed.</summary>
    public void Release(long bytes)
    {
        lock (gate) held -= bytes;
    }

    /// <summary>A new file in the scratch folder, removed when it is disposed or the run ends.</summary>
    public ScratchFile CreateFile(string name)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            folder ??= Directory.CreateDirectory(Path.Combine(parent, $"trainer-cache-{Guid.NewGuid():N}")).FullName;
            var path = Path.Combine(folder, $"{name}-{files.Count}.bin");
            // Deleted on close: a run that ends any way but a kill leaves nothing behind, and Dispose removes the
            // folder.
            var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
                FileOptions.DeleteOnClose | FileOptions.RandomAccess);
            var file = new ScratchFile(this, handle);
            files.Add(file);
            return file;
        }
    }

    /// <summary>What the caches took at their peak, for model.json and the progress output.</summary>
    public CacheUse Use()
    {
        lock (gate)
            return new CacheUse(MemoryCapMB, Math.Round((double)peakHeld / MB, 1),
                Math.Round((double)peakOnDisk / MB, 1));
    }

    internal void Grew(long bytes)
    {
        lock (gate)
        {
            onDisk += bytes;
            peakOnDisk = Math.Max(peakOnDisk, onDisk);
        }
    }

    internal void Closed(ScratchFile file, long length)
    {
        lock (gate)
        {
            files.Remove(file);
            onDisk -= length;
        }
    }

    public void Dispose()
    {
        ScratchFile[] open;
        lock (gate)
        {
            disposed = true;
            open = [.. files];
        }
        foreach (var file in open) file.Dispose();
        if (folder is null) return;
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { } // already gone, or a file a reader still holds: its handle deletes it on close
    }
}

/// <summary>A cache file: written once at known offsets, read back in pieces with positional reads (no shared file
/// position, so readers need no lock). Reads land in the page cache, not in the process's memory.</summary>
public sealed class ScratchFile : IDisposable
{
    private readonly CacheSpace space;
    private readonly SafeFileHandle handle;
    private long length;

    internal ScratchFile(CacheSpace space, SafeFileHandle handle) => (this.space, this.handle) = (space, handle);

    public long Length => length;

    public void Write(long offset, ReadOnlySpan<byte> bytes)
    {
        RandomAccess.Write(handle, bytes, offset);
        var end = offset + bytes.Length;
        if (end > length)
        {
            space.Grew(end - length);
            length = end;
        }
    }

    public void Read(long offset, Span<byte> into)
    {
        while (into.Length > 0)
        {
            var n = RandomAccess.Read(handle, into, offset);
            if (n == 0) throw new EndOfStreamException($"The cache file ends before byte {offset + into.Length}.");
            into = into[n..];
            offset += n;
        }
    }

    public void Dispose()
    {
        if (handle.IsClosed) return;
        handle.Dispose();
        space.Closed(this, length);
    }
}
