using System.Buffers.Binary;
using System.Text;

namespace Pipeline.Trainer.Onnx;

/// <summary>The few protobuf wire rules ONNX files need: enough to read and write a model without a code generator.</summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> data = data;
    private int position;

    public bool Next(out int field, out int wireType)
    {
        if (position >= data.Length) { field = wireType = 0; return false; }
        var key = ReadVarint();
        field = (int)(key >> 3);
        wireType = (int)(key & 7);
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException("Malformed varint in ONNX file.");
    }

    public long ReadInt64() => (long)ReadVarint();

    public float ReadFixed32Float()
    {
        var v = BinaryPrimitives.ReadSingleLittleEndian(data.Slice(position, 4));
        position += 4;
        return v;
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = checked((int)ReadVarint());
        var slice = data.Slice(position, length);
        position += length;
        return slice;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

    /// <summary>A repeated int64 field, packed or not.</summary>
    public void ReadInt64s(int wireType, List<long> into)
    {
        if (wireType != 2) { into.Add(ReadInt64()); return; }
        var inner = new ProtoReader(ReadBytes());
        while (inner.position < inner.data.Length) into.Add(inner.ReadInt64());
    }

    /// <summary>A repeated float field, packed or not.</summary>
    public void ReadFloats(int wireType, List<float> into)
    {
        if (wireType != 2) { into.Add(ReadFixed32Float()); return; }
        var bytes = ReadBytes();
        for (var i = 0; i + 4 <= bytes.Length; i += 4) into.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]));
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: ReadVarint(); break;
            case 1: position += 8; break;
            case 2: ReadBytes(); break;
            case 5: position += 4; break;
            default: throw new InvalidDataException($"Unsupported protobuf wire type {wireType}.");
        }
    }
}

/// <summary>Writes protobuf fields; nested messages are written into their own writer and added as bytes.</summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream stream = new();

    public byte[] ToArray() => stream.ToArray();

    private void Key(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private void Varint(ulong value)
    {
        while (value >= 0x80) { stream.WriteByte((byte)(value | 0x80)); value >>= 7; }
        stream.WriteByte((byte)value);
    }

    public ProtoWriter Int64(int field, long value) { Key(field, 0); Varint((ulong)value); return this; }

    public ProtoWriter Float(int field, float value)
    {
        Key(field, 5);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        stream.Write(b);
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Key(field, 2);
        Varint((ulong)value.Length);
        stream.Write(value);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    public ProtoWriter PackedInt64s(int field, IEnumerable<long> values)
    {
        var inner = new ProtoWriter();
        foreach (var v in values) inner.Varint((ulong)v);
        return Message(field, inner);
    }
}
