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

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static string Shown(string key) => key[..Math.Min(PrefixShown, key.Length)];
}
