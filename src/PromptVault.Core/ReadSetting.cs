using System.Reflection;

namespace PromptVault.Core;

/// <summary>
/// A configuration setting the server reads: one <paramref name="Key"/> (<c>PromptVault:Postgres</c>), or a section bound to an
/// options class, whose writable properties are its keys (<c>PromptVault:Webhooks</c>, <c>WebhookOptions</c>). A segment in braces
/// stands for any name (<c>PromptVault:Models:{name}</c>). Whatever reads a setting registers it as a service, so the server
/// can refuse, at start, a key that nothing reads (a misspelt one would otherwise leave its setting at the default, unsaid).
/// </summary>
public sealed record ReadSetting(string Key, Type? Options = null)
{
    /// <summary>The keys this setting covers: <see cref="Key"/> itself, or one for each of <see cref="Options"/>' writable properties.</summary>
    public IEnumerable<string> Keys => Options is null
        ? [Key]
        : Options.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => $"{Key}:{p.Name}");
}
