using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PromptVault.Core;

/// <summary>
/// The wire name of an enum value (kebab case: <c>few-shot</c>, <c>production</c>, unless the member carries
/// <see cref="JsonStringEnumMemberNameAttribute"/>), used in messages and JSON alike.
/// </summary>
public static class Names
{
    public static string Of<TEnum>(TEnum value) where TEnum : struct, Enum => WireNames<TEnum>.ByValue[value];

    /// <summary>Parses a wire name, ignoring case.</summary>
    public static bool TryParse<TEnum>(string? text, out TEnum value) where TEnum : struct, Enum =>
        WireNames<TEnum>.ByName.TryGetValue(text ?? "", out value);

    /// <summary>All wire names, comma-separated, for messages.</summary>
    public static string AllOf<TEnum>() where TEnum : struct, Enum => WireNames<TEnum>.All;

    /// <summary>The wire name of an enum member name (<c>FewShot</c> → <c>few-shot</c>).</summary>
    public static string ForMember(string memberName) => JsonNamingPolicy.KebabCaseLower.ConvertName(memberName);

    private static class WireNames<TEnum> where TEnum : struct, Enum
    {
        public static readonly FrozenDictionary<TEnum, string> ByValue =
            Enum.GetValues<TEnum>().ToFrozenDictionary(v => v, NameOf);

        public static readonly FrozenDictionary<string, TEnum> ByName =
            ByValue.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.OrdinalIgnoreCase);

        private static string NameOf(TEnum value)
        {
            var member = value.ToString();
            return typeof(TEnum).GetField(member)?.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? ForMember(member);
        }

        public static readonly string All = string.Join(", ", Enum.GetValues<TEnum>().Select(v => ByValue[v]));
    }
}
