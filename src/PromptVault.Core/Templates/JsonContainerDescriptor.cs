using System.Collections;
using System.Globalization;
using System.Text.Json;
using HandlebarsDotNet.MemberAccessors;
using HandlebarsDotNet.ObjectDescriptors;
using HandlebarsDotNet.PathStructure;

namespace PromptVault.Core.Templates;

/// <summary>
/// Tells Handlebars.Net how to read a <see cref="JsonContainer"/>, the way it reads the list or dictionary the value
/// used to be copied into: an object's members by exact name; an array's items by index, and its <c>count</c>
/// (a list's Count property, which Handlebars.Net matches ignoring case).
/// </summary>
internal sealed class JsonContainerDescriptor : IObjectDescriptorProvider, IMemberAccessor
{
    private readonly ObjectDescriptor _descriptor;

    public JsonContainerDescriptor() =>
        _descriptor = new ObjectDescriptor(typeof(JsonContainer), this, static (_, value) => PropertyNames((JsonContainer)value), static _ => new JsonContainerIterator());

    public bool TryGetDescriptor(Type type, out ObjectDescriptor value)
    {
        var described = type == typeof(JsonContainer);
        value = described ? _descriptor : ObjectDescriptor.Empty;
        return described;
    }

    public bool TryGetValue(object instance, ChainSegment memberName, out object? value)
    {
        var element = ((JsonContainer)instance).Element;
        value = null;
        if (element.ValueKind == JsonValueKind.Object)
        {
            if (!element.TryGetProperty(memberName.TrimmedValue, out var property)) return false;
            value = JsonContainer.ToTemplateValue(property);
            return true;
        }

        var length = element.GetArrayLength();
        if (string.Equals(memberName.TrimmedValue, "count", StringComparison.OrdinalIgnoreCase))
        {
            value = length;
            return true;
        }
        if (!int.TryParse(memberName.TrimmedValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index) || index < 0 || index >= length)
            return false;
        value = JsonContainer.ToTemplateValue(element[index]);
        return true;
    }

    private static IEnumerable PropertyNames(JsonContainer container) =>
        container.IsObject ? container.Element.EnumerateObject().Select(p => p.Name).ToList() : [];
}
