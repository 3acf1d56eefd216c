using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace PromptVault.Core.Storage;

/// <summary>
/// The framing the stored binary blobs share: the first byte is the blob's format, the last four the CRC-32 of the bytes
/// before them (little-endian), so a damaged blob is refused rather than read as other figures. Counts are 7-bit varints
/// (as <see cref="BinaryWriter.Write7BitEncodedInt64"/> writes them) and doubles little-endian IEEE 754. Pure and
/// thread-safe; writing and reading allocate nothing but the blob written.
/// </summary>
internal static class SealedBlob
{
    private const int ChecksumLength = sizeof(uint);

    /// <summary>
    /// Checks the format (one of <paramref name="formats"/>) and checksum, and returns a reader of the content between
    /// them. Every refusal, here and by the reader, is made by <paramref name="corrupt"/> from the reason.
    /// </summary>
    public static Reader Open(byte[] blob, ReadOnlySpan<byte> formats, Func<string, InvalidDataException> corrupt, out byte format)
    {
        ArgumentNullException.ThrowIfNull(blob);
        if (blob.Length == 0)
            throw corrupt("it is empty");
        format = blob[0];
        if (!formats.Contains(format))
        {
            var known = formats.Length == 1 ? $"format {formats[0]}" : $"formats {string.Join(", ", formats[..^1].ToArray())} and {formats[^1]}";
            throw corrupt($"its format is {format}, and this PromptVault reads {known} only");
        }
        if (blob.Length <= ChecksumLength)
            throw corrupt($"it is {blob.Length} bytes long, too short to hold its checksum");
        var bodyLength = blob.Length - ChecksumLength;
        if (Crc32.HashToUInt32(blob.AsSpan(0, bodyLength)) != BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(bodyLength)))
            throw corrupt("its checksum does not match its content");
        return new Reader(blob.AsSpan(1, bodyLength - 1), corrupt);
    }

    /// <summary>Writes a blob: the format, then the values written, then (by <see cref="ToSealedArray"/>) the checksum.</summary>
    public ref struct Writer
    {
        private Span<byte> _buffer;
        private byte[]? _rented;
        private int _length;

        /// <param name="scratch">Where to write while the blob fits (a <c>stackalloc</c>); it grows into a pooled array past that.</param>
        public Writer(Span<byte> scratch, byte format)
        {
            _buffer = scratch;
            WriteByte(format);
        }

        public void WriteByte(byte value) => Reserve(1)[0] = value;

        public void WriteVarint(ulong value)
        {
            while (value > 0x7F)
            {
                WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            WriteByte((byte)value);
        }

        public void WriteDouble(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Reserve(sizeof(double)), value);

        /// <summary>The blob written so far with its checksum; returns the pooled array, if any.</summary>
        public byte[] ToSealedArray()
        {
            var blob = new byte[_length + ChecksumLength];
            var body = _buffer[.._length];
            body.CopyTo(blob);
            BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(_length), Crc32.HashToUInt32(body));
            if (_rented is not null)
                ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
            return blob;
        }

        private Span<byte> Reserve(int count)
        {
            if (_length + count > _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
                _buffer[.._length].CopyTo(larger);
                if (_rented is not null)
                    ArrayPool<byte>.Shared.Return(_rented);
                _buffer = _rented = larger;
            }
            var reserved = _buffer.Slice(_length, count);
            _length += count;
            return reserved;
        }
    }

    /// <summary>Reads a blob's content; refuses one that ends early or (<see cref="EnsureEnd"/>) holds bytes after its last value.</summary>
    public ref struct Reader(ReadOnlySpan<byte> content, Func<string, InvalidDataException> corrupt)
    {
        private ReadOnlySpan<byte> _rest = content;

        public byte ReadByte() => Take(1)[0];

        /// <summary>A count: refused when negative, which no stored blob holds.</summary>
        public long ReadCount()
        {
            var value = (long)ReadVarint();
            return value >= 0 ? value : throw corrupt($"it holds a negative count ({value})");
        }

        private ulong ReadVarint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                var next = ReadByte();
                // The tenth byte holds the top bit of 64 alone.
                if (shift == 63 && next > 1)
                    break;
                value |= (ulong)(next & 0x7F) << shift;
                if (next <= 0x7F)
                    return value;
            }
            throw corrupt("it holds a count longer than 64 bits");
        }

        public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(sizeof(double)));

        public readonly void EnsureEnd()
        {
            if (!_rest.IsEmpty)
                throw corrupt($"{_rest.Length} bytes follow its last value");
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (_rest.Length < count)
                throw corrupt("it ends in the middle of a value");
            var taken = _rest[..count];
            _rest = _rest[count..];
            return taken;
        }
    }
}
