using System.Buffers;
using System.Text;

namespace PromptVault.Core.Experiments;

/// <summary>
/// A unit id as UTF-8: the bytes assignment hashes (<see cref="Assignment"/>) and a store binds and reads back, encoded on
/// the stack for ids of usual length.
/// </summary>
public static class UnitIdUtf8
{
    /// <summary>Reads the id's UTF-8, which lives only for the call.</summary>
    public delegate T Reader<out T>(ReadOnlySpan<byte> utf8, long state);

    private const int StackLimit = 1024;

    /// <summary>Encodes <paramref name="unitId"/> and hands its bytes, with <paramref name="state"/>, to <paramref name="read"/>.</summary>
    public static T Read<T>(ReadOnlySpan<char> unitId, long state, Reader<T> read)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(unitId.Length);
        byte[]? rented = null;
        // Sized to the id rather than to the limit: the runtime zeroes a stack buffer, and ids are usually short.
        var buffer = maxBytes <= StackLimit ? stackalloc byte[maxBytes] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            return read(buffer[..Encoding.UTF8.GetBytes(unitId, buffer)], state);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
