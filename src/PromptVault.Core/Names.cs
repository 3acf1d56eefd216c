using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json.Serialization;

namespace PromptVault.Core;

/// <summary>
/// The wire name of an enum value: its <see cref="JsonStringEnumMemberNameAttribute"/>, which the framework's
/// <see cref="JsonStringEnumConverter"/> and the OpenAPI document read too, so messages, JSON and the document agree.
/// </summary>
public static class Names
{
    public static string Of<TEnum>(TEnum value) where TEnum : struct, Enum => WireNames<TEnum>.ByValue[value];

    /// <summary>Parses a wire name, ignoring case.</summary>
    public static bool TryParse<TEnum>(string? text, out TEnum value) where TEnum : struct, Enum =>
        WireNames<TEnum>.ByName.TryGetValue(text ?? "", out value);

    /// <summary>All wire names, comma-separated, for messages.</summary>
    public static string AllOf<TEnum>() where TEnum : struct, Enum => WireNames<TEnum>.All;

    /// <summary>All wire names of <paramref name="enumType"/>, comma-separated, for messages.</summary>
    public static string AllOf(Type enumType) => string.Join(", ", ListOf(enumType));

    /// <summary>All wire names of <paramref name="enumType"/>, in declaration order.</summary>
    public static IReadOnlyList<string> ListOf(Type enumType)
    {
        ArgumentNullException.ThrowIfNull(enumType);
        return [.. enumType.GetFields(BindingFlags.Public | BindingFlags.Static).Select(NameOf)];
    }

    /// <summary>As <see cref="JsonStringEnumConverter"/> writes it: the attribute's name, else the member's own.</summary>
    private static string NameOf(FieldInfo field) => field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? field.Name;

    private static class WireNames<TEnum> where TEnum : struct, Enum
    {
        public static readonly FrozenDictionary<TEnum, string> ByValue =
            Enum.GetValues<TEnum>().ToFrozenDictionary(v => v, v => NameOf(typeof(TEnum).GetField(v.ToString())!));

        public static readonly FrozenDictionary<string, TEnum> ByName =
            ByValue.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.OrdinalIgnoreCase);

        public static readonly string All = AllOf(typeof(TEnum));
    }
}
