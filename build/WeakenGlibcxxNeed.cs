using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Sets VER_FLG_WEAK on one version need (.gnu.version_r) of a 64-bit little-endian ELF file, so that the dynamic
// loader tolerates a libstdc++ without that version. Idempotent; writes a new file beside the old, then replaces it.
public class WeakenGlibcxxNeed : Task
{
    [Required] public ITaskItem[] Files { get; set; }
    [Required] public string Version { get; set; }

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            var elf = File.ReadAllBytes(path);
            var changed = Weaken(elf, Version);
            if (changed < 0)
            {
                Log.LogWarning("{0} is not a 64-bit ELF file with version needs; left as it is.", path);
                continue;
            }
            if (changed == 0) continue;
            var temp = path + ".patching";
            File.WriteAllBytes(temp, elf);
            File.Delete(path);
            File.Move(temp, path);
            Log.LogMessage(MessageImportance.High, "Marked {0} weak in {1}", Version, path);
        }
        return !Log.HasLoggedErrors;
    }

    // Returns the number of entries changed, or -1 when the file has no readable version-need section.
    private static int Weaken(byte[] elf, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7F || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1) return -1;
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (var i = 0; i < shnum; i++)
        {
            var sh = (int)(shoff + i * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != 0x6FFFFFFE) continue; // SHT_GNU_verneed
            var offset = (int)BitConverter.ToInt64(elf, sh + 0x18);
            var strtab = (int)BitConverter.ToInt64(
                elf, (int)(shoff + BitConverter.ToUInt32(elf, sh + 0x28) * shentsize) + 0x18);
            int count = (int)BitConverter.ToUInt32(elf, sh + 0x2C), changed = 0;
            for (int n = 0, vn = offset; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, vn + 2);
                for (int a = 0, aux = vn + (int)BitConverter.ToUInt32(elf, vn + 8); a < auxCount; a++)
                {
                    var nameAt = strtab + (int)BitConverter.ToUInt32(elf, aux + 8);
                    var end = Array.IndexOf(elf, (byte)0, nameAt);
                    var flags = BitConverter.ToUInt16(elf, aux + 4);
                    if (Encoding.ASCII.GetString(elf, nameAt, end - nameAt) == version && (flags & 2) == 0)
                    {
                        BitConverter.GetBytes((ushort)(flags | 2)).CopyTo(elf, aux + 4);
                        changed++;
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                vn += (int)BitConverter.ToUInt32(elf, vn + 12);
            }
            return changed;
        }
        return -1;
    }
}
