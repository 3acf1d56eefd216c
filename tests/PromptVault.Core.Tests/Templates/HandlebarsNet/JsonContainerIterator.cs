using HandlebarsDotNet;
using HandlebarsDotNet.Compiler;
using HandlebarsDotNet.Iterators;
using HandlebarsDotNet.PathStructure;
using HandlebarsDotNet.Runtime;
using HandlebarsDotNet.ValueProviders;

namespace PromptVault.Core.Tests.Templates.HandlebarsNet;

/// <summary>
/// Iterates a <see cref="JsonContainer"/> (<c>#each</c>, or a section), setting <c>this</c>, <c>@index</c>, <c>@key</c>,
/// <c>@first</c>, <c>@last</c> and block parameters as Handlebars.Net does for a list or a dictionary.
/// </summary>
internal sealed class JsonContainerIterator : IIterator
{
    public void Iterate(in EncodedTextWriter writer, BindingContext context, ChainSegment[] blockParamsVariables, object input,
        TemplateDelegate template, TemplateDelegate ifEmpty)
    {
        var entries = ((JsonContainer)input).Entries;
        if (entries.Count == 0)
        {
            using var empty = context.CreateFrame(context.Value);
            ifEmpty(writer, empty);
            return;
        }

        var last = entries.Count - 1;
        var index = 0;
        while (index <= last)
        {
            // A frame keeps the object descriptor of the first value it reads members of, so items of one kind share a
            // frame and the next kind (a number after objects, in JSON's mixed arrays) gets a new one.
            var kind = entries[index].Value?.GetType();
            using var frame = context.CreateFrame();
            var iterator = new IteratorValues(frame);
            var blockParams = new BlockParamsValues(frame, blockParamsVariables);
            blockParams.CreateProperty(0, out var valueParam);
            blockParams.CreateProperty(1, out var keyParam);
            try
            {
                do
                {
                    var (name, value) = entries[index];
                    var boxedIndex = BoxedValues.Int(index);
                    var key = name ?? boxedIndex;
                    iterator.First = index == 0 ? BoxedValues.True : BoxedValues.False;
                    iterator.Last = index == last ? BoxedValues.True : BoxedValues.False;
                    iterator.Index = boxedIndex;
                    iterator.Key = key;
                    iterator.Value = value;
                    blockParams[valueParam] = value;
                    blockParams[keyParam] = key;
                    frame.Value = value;
                    template(writer, frame);
                    index++;
                }
                while (index <= last && entries[index].Value?.GetType() == kind);
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
    }
}
