using System.Runtime.InteropServices;
using Google.Protobuf;
using Pipeline.Trainer.Onnx.Proto;
using DataType = Pipeline.Trainer.Onnx.Proto.TensorProto.Types.DataType;

namespace Pipeline.Trainer.Onnx;

/// <summary>Reads ONNX models through the generated classes; a file that is not one fails as invalid data.</summary>
public static class OnnxFile
{
    public static GraphProto ReadGraph(string path)
    {
        ModelProto model;
        try
        {
            using var file = File.OpenRead(path);
            model = ModelProto.Parser.ParseFrom(file);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException(
                $"{path} is not a readable ONNX model (truncated or corrupt): {e.Message}", e);
        }
        return model.Graph ?? throw new InvalidDataException($"{path} holds no ONNX graph.");
    }

    /// <summary>A float tensor's values, from raw_data or float_data; checked against its shape.</summary>
    public static float[] Floats(TensorProto tensor)
    {
        if (tensor.DataType != (int)DataType.Float)
            throw new InvalidDataException($"{tensor.Name}: data type {tensor.DataType}, not float.");
        var values = tensor.RawData.IsEmpty
            ? tensor.FloatData.ToArray()
            : MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
        var count = tensor.Dims.Aggregate(1L, (n, d) => n * d);
        if (values.Length != count)
            throw new InvalidDataException(
                $"{tensor.Name}: {values.Length} values for shape [{string.Join(",", tensor.Dims)}].");
        return values;
    }
}
