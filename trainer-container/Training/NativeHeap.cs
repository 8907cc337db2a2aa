using System.Runtime.InteropServices;

namespace Pipeline.Trainer.Training;

/// <summary>
/// Hands freed native memory back to the system. libtorch's many differently sized buffers fragment glibc's heap:
/// measured here, the resident size grew by about 250 MB a fine-tune epoch without this, and stayed flat with it.
/// </summary>
internal static class NativeHeap
{
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { malloc_trim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { } // not glibc (musl): nothing to do
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
