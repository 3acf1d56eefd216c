using System.Text.Json;
using HandlebarsDotNet;
using HandlebarsDotNet.Collections;
using HandlebarsDotNet.Compiler;
using HandlebarsDotNet.Iterators;
using HandlebarsDotNet.PathStructure;
using HandlebarsDotNet.Runtime;
using HandlebarsDotNet.ValueProviders;

namespace PromptVault.Core.Templates;

/// <summary>
/// Iterates a <see cref="JsonContainer"/> (<c>#each</c>, or a section), setting <c>this</c>, <c>@index</c>, <c>@key</c>,
/// <c>@first</c>, <c>@last</c> and block parameters as Handlebars.Net does for a list or a dictionary.
/// </summary>
internal sealed class JsonContainerIterator : IIterator
{
    public void Iterate(in EncodedTextWriter writer, BindingContext context, ChainSegment[] blockParamsVariables, object input,
        TemplateDelegate template, TemplateDelegate ifEmpty)
    {
        var container = (JsonContainer)input;
        using var frame = context.CreateFrame();
        var iterator = new IteratorValues(frame);
        var blockParams = new BlockParamsValues(frame, blockParamsVariables);
        blockParams.CreateProperty(0, out var valueParam);
        blockParams.CreateProperty(1, out var keyParam);
        iterator.First = BoxedValues.True;
        iterator.Last = BoxedValues.False;

        var last = container.Count - 1;
        var index = 0;
        if (container.IsObject)
        {
            foreach (var property in container.Element.EnumerateObject())
                Item(writer, frame, template, iterator, blockParams, valueParam, keyParam, index++, last, property.Name, property.Value);
        }
        else
        {
            foreach (var item in container.Element.EnumerateArray())
                Item(writer, frame, template, iterator, blockParams, valueParam, keyParam, index++, last, null, item);
        }
        if (index == 0)
        {
            frame.Value = context.Value;
            ifEmpty(writer, frame);
        }
    }

    /// <param name="name">The property name when iterating an object; null for an array, whose key is the index.</param>
    private static void Item(in EncodedTextWriter writer, BindingContext frame, TemplateDelegate template,
        IteratorValues iterator, BlockParamsValues blockParams, EntryIndex<ChainSegment> valueParam, EntryIndex<ChainSegment> keyParam,
        int index, int last, string? name, JsonElement item)
    {
        RenderOutput.CheckTime();
        var boxedIndex = BoxedValues.Int(index);
        var key = name ?? boxedIndex;
        var value = JsonContainer.ToTemplateValue(item);
        if (index == 1) iterator.First = BoxedValues.False;
        if (index == last) iterator.Last = BoxedValues.True;
        iterator.Index = boxedIndex;
        iterator.Key = key;
        blockParams[valueParam] = value;
        blockParams[keyParam] = key;
        iterator.Value = value;
        frame.Value = value;
        template(writer, frame);
    }
}
