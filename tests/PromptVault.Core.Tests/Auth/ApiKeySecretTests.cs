using PromptVault.Core.Auth;

namespace PromptVault.Core.Tests.Auth;

public sealed class ApiKeySecretTests
{
    [Fact]
    public void Generate_Key_StartsWithPrefixAndIsUrlSafe()
    {
        var key = ApiKeySecret.Generate();

        Assert.StartsWith("pv_", key, StringComparison.Ordinal);
        Assert.Equal(3 + 43, key.Length);
        Assert.All(key[3..], c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_', $"unexpected '{c}'"));
    }

    [Fact]
    public void Generate_ManyKeys_AreDistinct()
    {
        var keys = Enumerable.Range(0, 1_000).Select(_ => ApiKeySecret.Generate()).ToList();

        var distinct = keys.Distinct(StringComparer.Ordinal).Count();

        Assert.Equal(keys.Count, distinct);
    }

    [Fact]
    public void Hash_Key_Is64LowercaseHexCharacters()
    {
        var key = ApiKeySecret.Generate();

        var hash = ApiKeySecret.Hash(key);

        Assert.Equal(64, hash.Length);
        Assert.All(hash, c => Assert.True(char.IsAsciiDigit(c) || c is >= 'a' and <= 'f', $"unexpected '{c}'"));
    }

    [Fact]
    public void Hash_SameKey_IsDeterministic()
    {
        var key = ApiKeySecret.Generate();

        var first = ApiKeySecret.Hash(key);
        var second = ApiKeySecret.Hash(key);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Hash_KnownInput_IsSha256()
    {
        var key = "pv_test";

        var hash = ApiKeySecret.Hash(key);

        // printf 'pv_test' | sha256sum
        Assert.Equal("d3e9a0d57a0ab1f5e7c342e0c05fce290aca5592ee5531fce0f8a115b8bb9c92", hash);
    }

    [Fact]
    public void Hash_DifferentKeys_Differ()
    {
        var a = ApiKeySecret.Generate();
        var b = ApiKeySecret.Generate();

        var hashA = ApiKeySecret.Hash(a);
        var hashB = ApiKeySecret.Hash(b);

        Assert.NotEqual(hashA, hashB);
    }

    [Fact]
    public void Shown_Key_IsItsFirstTenCharacters()
    {
        var key = "pv_abcdefghijklmnop";

        var shown = ApiKeySecret.Shown(key);

        Assert.Equal("pv_abcdefg", shown);
    }
}
