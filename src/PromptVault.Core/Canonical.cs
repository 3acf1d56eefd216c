using System.Text.Json;
using PromptVault.Core.Contracts;

namespace PromptVault.Core;

/// <summary>One JSON form of a value, so "is this the same?" is decided in one place.</summary>
internal static class Canonical
{
    public static string Json<T>(T value) => JsonSerializer.Serialize(value, PromptVaultJson.Options);
}
