using System.Collections;
using System.Text.Json;

namespace PromptVault.Core.Templates;

/// <summary>
/// A JSON array or object input as a template sees it, read in place rather than copied into lists and dictionaries
/// on every render. It is a collection, so Handlebars.Net treats it as one: an empty one is falsy, and a section
/// (<c>{{#items}}…{{/items}}</c>) iterates it. <see cref="JsonContainerDescriptor"/> says how templates read it.
/// </summary>
internal sealed class JsonContainer(JsonElement element) : ICollection
{
    public JsonElement Element { get; } = element;

    public bool IsObject => Element.ValueKind == JsonValueKind.Object;

    /// <summary>
    /// What a template sees for a JSON value: strings, numbers (long when whole, else double) and booleans as the .NET
    /// values Handlebars.Net formats and tests for truth itself; arrays and objects wrapped; null as null.
    /// </summary>
    public static object? ToTemplateValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.TryGetInt64(out var whole) ? whole : value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array or JsonValueKind.Object => new JsonContainer(value),
        _ => null,
    };

    public int Count
    {
        get
        {
            if (!IsObject) return Element.GetArrayLength();
            var count = 0;
            foreach (var _ in Element.EnumerateObject()) count++;
            return count;
        }
    }

    bool ICollection.IsSynchronized => false;

    object ICollection.SyncRoot => this;

    void ICollection.CopyTo(Array array, int index)
    {
        foreach (var value in Values()) array.SetValue(value, index++);
    }

    public IEnumerator GetEnumerator() => Values().GetEnumerator();

    /// <summary>The items of an array, or the property values of an object, as templates see them.</summary>
    private IEnumerable<object?> Values() => IsObject
        ? Element.EnumerateObject().Select(p => ToTemplateValue(p.Value))
        : Element.EnumerateArray().Select(ToTemplateValue);
}
