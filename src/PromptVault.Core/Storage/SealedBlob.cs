using System.Buffers.Binary;
using System.IO.Hashing;

namespace PromptVault.Core.Storage;

/// <summary>
/// The framing the stored binary blobs share: the first byte is the blob's format, the last four the CRC-32 of the bytes
/// before them (little-endian), so a damaged blob is refused rather than read as other figures. Pure and thread-safe.
/// </summary>
internal static class SealedBlob
{
    private const int ChecksumLength = sizeof(uint);

    /// <summary>Writes <paramref name="format"/>, then what <paramref name="write"/> writes, then the checksum.</summary>
    public static byte[] Seal(byte format, Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(format);
            write(writer);
        }
        var body = stream.ToArray();
        var blob = new byte[body.Length + ChecksumLength];
        body.CopyTo(blob, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(body.Length), Crc32.HashToUInt32(body));
        return blob;
    }

    /// <summary>
    /// Checks the format (one of <paramref name="formats"/>) and checksum, has <paramref name="read"/> read the content
    /// between them, and refuses a blob that ends early or holds bytes after its last value. Every refusal is made by
    /// <paramref name="corrupt"/> from the reason.
    /// </summary>
    public static T Open<T>(byte[] blob, ReadOnlySpan<byte> formats, Func<string, Exception?, InvalidDataException> corrupt,
        Func<BinaryReader, byte, T> read)
    {
        ArgumentNullException.ThrowIfNull(blob);
        if (blob.Length == 0)
            throw corrupt("it is empty", null);
        var format = blob[0];
        if (!formats.Contains(format))
        {
            var known = formats.Length == 1 ? $"format {formats[0]}" : $"formats {string.Join(", ", formats[..^1].ToArray())} and {formats[^1]}";
            throw corrupt($"its format is {format}, and this PromptVault reads {known} only", null);
        }
        if (blob.Length <= ChecksumLength)
            throw corrupt($"it is {blob.Length} bytes long, too short to hold its checksum", null);
        var bodyLength = blob.Length - ChecksumLength;
        if (Crc32.HashToUInt32(blob.AsSpan(0, bodyLength)) != BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(bodyLength)))
            throw corrupt("its checksum does not match its content", null);

        using var reader = new BinaryReader(new MemoryStream(blob, 1, bodyLength - 1, writable: false));
        T value;
        try
        {
            value = read(reader, format);
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException)
        {
            throw corrupt("it ends in the middle of a value", e);
        }
        if (reader.BaseStream.Position != reader.BaseStream.Length)
            throw corrupt($"{reader.BaseStream.Length - reader.BaseStream.Position} bytes follow its last value", null);
        return value;
    }
}
