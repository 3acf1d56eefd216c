using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using HandlebarsDotNet;
using HandlebarsDotNet.IO;

namespace PromptVault.Core.Tests.Templates.HandlebarsNet;

/// <summary>
/// Writes a whole JSON array or object (<c>{{items}}</c>) as Handlebars.Net writes the list or dictionary it used to be
/// copied into: items joined by commas, entries as <c>[key, value]</c>. Rare, so it copies rather than repeat those rules.
/// </summary>
internal sealed class JsonContainerFormatter : IFormatter, IFormatterProvider
{
    public void Format<T>(T value, in EncodedTextWriter writer) => writer.Write(ToCollections(((JsonContainer)(object)value!).Element));

    public bool TryCreateFormatter(Type type, [NotNullWhen(true)] out IFormatter? formatter)
    {
        formatter = type == typeof(JsonContainer) ? this : null;
        return formatter is not null;
    }

    private static object? ToCollections(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Array => value.EnumerateArray().Select(ToCollections).ToList(),
        JsonValueKind.Object => value.EnumerateObject().ToDictionary(p => p.Name, p => ToCollections(p.Value), StringComparer.Ordinal),
        _ => JsonContainer.ToTemplateValue(value),
    };
}
