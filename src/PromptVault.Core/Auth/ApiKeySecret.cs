using System.Security.Cryptography;
using System.Text;

namespace PromptVault.Core.Auth;

/// <summary>
/// Makes and hashes API key secrets. Keys carry 256 random bits, so a plain SHA-256 is enough to store them:
/// slow password hashes guard low-entropy secrets, which these are not.
/// </summary>
public static class ApiKeySecret
{
    public const string Prefix = "pv_";
    private const int PrefixShown = 10;

    public static string Generate() =>
        Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The hash stored for a key: its UTF-8's SHA-256 in lowercase hex. Hashes a key read from a header in place.</summary>
    public static string Hash(ReadOnlySpan<char> key)
    {
        var length = Encoding.UTF8.GetByteCount(key);
        var utf8 = length <= MaxStackKeyBytes ? stackalloc byte[MaxStackKeyBytes] : new byte[length];
        var written = Encoding.UTF8.GetBytes(key, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..written], hash);
        return Convert.ToHexStringLower(hash);
    }

    // A generated key is 46 bytes; anything longer presented is not one of ours, but is hashed all the same.
    private const int MaxStackKeyBytes = 256;

    public static string Shown(string key) => key[..Math.Min(PrefixShown, key.Length)];
}
