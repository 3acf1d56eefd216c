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

        try
        {
            var entries = container.Entries;
            var last = entries.Count - 1;
            for (var index = 0; index < entries.Count; index++)
                Item(writer, frame, template, iterator, blockParams, valueParam, keyParam, index, last, entries[index]);
            if (entries.Count == 0)
            {
                frame.Value = context.Value;
                ifEmpty(writer, frame);
            }
        }
        finally
        {
            // Handlebars.Net pools its frames with what was last put in them; let go of the item, also when a limit
            // ends the render (see JsonContainer for the rest of this story).
            iterator.Value = iterator.Key = null;
            blockParams[valueParam] = blockParams[keyParam] = null;
            frame.Value = null;
        }
    }

    /// <param name="entry">The item; its name when iterating an object, else null, and the key is the index.</param>
    private static void Item(in EncodedTextWriter writer, BindingContext frame, TemplateDelegate template,
        IteratorValues iterator, BlockParamsValues blockParams, EntryIndex<ChainSegment> valueParam, EntryIndex<ChainSegment> keyParam,
        int index, int last, JsonContainer.Entry entry)
    {
        RenderOutput.CheckTime();
        var boxedIndex = BoxedValues.Int(index);
        var key = entry.Name ?? boxedIndex;
        var value = entry.Value;
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
