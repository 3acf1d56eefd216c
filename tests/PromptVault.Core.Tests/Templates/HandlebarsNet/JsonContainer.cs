using System.Collections;
using System.Text.Json;

namespace PromptVault.Core.Tests.Templates.HandlebarsNet;

/// <summary>
/// A JSON array or object input as a template sees it, read in place rather than copied into lists and dictionaries
/// on every render. It is a collection, so Handlebars.Net treats it as one: an empty one is falsy, and a section
/// (<c>{{#items}}…{{/items}}</c>) iterates it. <see cref="JsonContainerDescriptor"/> says how templates read it.
/// </summary>
/// <remarks>
/// Its items are read on first use and kept, so loops nested over the same input share one copy of each value rather
/// than reading a new string at every level: Handlebars.Net pools its frames with the last values put in them, and a
/// fresh copy per level and visit kept hundreds of megabytes reachable after a few hostile renders. A container is
/// made per render, except a variable's default, which renders share; two threads reading it at once may both fill
/// the cache, with equal results, so that race is harmless.
/// </remarks>
internal sealed class JsonContainer(JsonElement element) : ICollection
{
    private Entry[]? _entries;
    private Dictionary<string, object?>? _members;

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

    /// <summary>The items of an array (name null), or the properties of an object in order, as templates see them.</summary>
    public IReadOnlyList<Entry> Entries => _entries ??= IsObject
        ? Element.EnumerateObject().Select(p => new Entry(p.Name, ToTemplateValue(p.Value))).ToArray()
        : Element.EnumerateArray().Select(item => new Entry(null, ToTemplateValue(item))).ToArray();

    /// <summary>An object's member by exact name (the last one, if the name repeats); false for an array or a missing name.</summary>
    public bool TryGetMember(string name, out object? value)
    {
        value = null;
        if (!IsObject) return false;
        if (_members is null)
        {
            var members = new Dictionary<string, object?>(Entries.Count, StringComparer.Ordinal);
            foreach (var (memberName, memberValue) in Entries)
                members[memberName!] = memberValue;
            _members = members;
        }
        return _members.TryGetValue(name, out value);
    }

    public int Count => Entries.Count;

    bool ICollection.IsSynchronized => false;

    object ICollection.SyncRoot => this;

    void ICollection.CopyTo(Array array, int index)
    {
        foreach (var entry in Entries) array.SetValue(entry.Value, index++);
    }

    public IEnumerator GetEnumerator() => Entries.Select(e => e.Value).GetEnumerator();

    /// <summary>
    /// The type name of the list or dictionary it stands for: what Handlebars.Net wrote for one as the value of a written
    /// dictionary's entry (<c>{{#t}}{{this}}{{/t}}</c> writes the variables as <c>[name, value]</c> entries).
    /// </summary>
    public override string ToString() => (IsObject ? typeof(Dictionary<string, object>) : typeof(List<object>)).ToString();

    /// <summary>One item of an array (no name) or property of an object.</summary>
    public readonly record struct Entry(string? Name, object? Value);
}
