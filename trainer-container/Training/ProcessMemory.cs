using System.Runtime;
using System.Runtime.InteropServices;
using Pipeline.Core.Images;

namespace Pipeline.Trainer.Training;

/// <summary>
/// Gives memory that is no longer used back to the system between the run's phases. Without it the resident size
/// holds every phase's high-water mark: ImageSharp's pooled buffers and the garbage of decoding (1.5 GB after
/// decoding 1,000 photos, measured here), and glibc's heap fragmented by libtorch (about 250 MB more a fine-tune
/// epoch).
/// </summary>
internal static class ProcessMemory
{
    public static void Release()
    {
        ImageFile.ReleaseRetainedBuffers();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        if (!OperatingSystem.IsLinux()) return;
        try { malloc_trim(0); }
        // not glibc (musl): nothing to do
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>
    /// A full collection without compaction, between batches: each batch's buffers are large objects, which only a
    /// full collection frees, and without one a pass over 1,600 images rose to 3.3 GB of garbage (measured here).
    /// </summary>
    public static void Collect()
    {
        ImageFile.ReleaseRetainedBuffers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
