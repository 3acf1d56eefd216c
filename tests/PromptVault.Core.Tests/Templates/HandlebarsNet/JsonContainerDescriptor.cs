using System.Collections;
using System.Globalization;
using HandlebarsDotNet.MemberAccessors;
using HandlebarsDotNet.ObjectDescriptors;
using HandlebarsDotNet.PathStructure;

namespace PromptVault.Core.Tests.Templates.HandlebarsNet;

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
        var container = (JsonContainer)instance;
        if (container.IsObject) return container.TryGetMember(memberName.TrimmedValue, out value);

        value = null;
        var items = container.Entries;
        if (string.Equals(memberName.TrimmedValue, "count", StringComparison.OrdinalIgnoreCase))
        {
            value = items.Count;
            return true;
        }
        if (!int.TryParse(memberName.TrimmedValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index) || index < 0 || index >= items.Count)
            return false;
        value = items[index].Value;
        return true;
    }

    private static IEnumerable PropertyNames(JsonContainer container) =>
        container.IsObject ? container.Entries.Select(e => e.Name).ToList() : [];
}
