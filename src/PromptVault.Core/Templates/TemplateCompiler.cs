using System.Text.Json;

namespace PromptVault.Core.Templates;

/// <summary>
/// Turns a <see cref="ParsedTemplate"/> into a tree of render steps, with every name resolved once: a top-level name to
/// its variable's slot, a member name to its UTF-8 bytes (read from JSON in place), <c>../</c> and block parameters to
/// the frame they read. What is left per render is walking the tree.
/// </summary>
internal static class TemplateCompiler
{
    public static RenderStep[] Compile(ParsedTemplate template, string[] variables) =>
        new Compilation(variables).Steps(template.Program);

    private sealed class Compilation(string[] variables)
    {
        public RenderStep[] Steps(Program program)
        {
            var steps = new List<RenderStep>(program.Body.Count);
            foreach (var statement in program.Body)
            {
                switch (statement)
                {
                    case ContentStatement { Value.Length: > 0 } content:
                        if (steps is [.., TextStep previous]) steps[^1] = new TextStep(previous.Text + content.Value);
                        else steps.Add(new TextStep(content.Value));
                        break;
                    case MustacheStatement mustache:
                        var value = Value(mustache.Value);
                        steps.Add(value is FrameMemberSource member ? new WriteMemberStep(member) : new WriteStep(value));
                        break;
                    case BlockStatement block:
                        steps.Add(Block(block));
                        break;
                    case IncludeStatement include:
                        steps.Add(new IncludeStep(include.Reference));
                        break;
                }
            }
            return [.. steps];
        }

        private RenderStep Block(BlockStatement block)
        {
            var target = Value(block.Target);
            var body = Steps(block.Program);
            var inverse = block.Inverse is null ? [] : Steps(block.Inverse);
            return block.Kind switch
            {
                BlockKind.If => new IfStep(target, body, inverse),
                BlockKind.Unless => new IfStep(target, inverse, body),
                // {{^x}}A{{else}}B{{/x}} is {{#x}}B{{else}}A{{/x}}, as Handlebars reads it; without an else, an #unless.
                BlockKind.InvertedSection when block.Inverse is null => new IfStep(target, inverse, body),
                BlockKind.InvertedSection => new SectionStep(target, block.Frame, inverse, body),
                BlockKind.Each => new EachStep(target, block.Frame, body, inverse),
                BlockKind.With => new WithStep(target, block.Frame, body, inverse),
                _ => new SectionStep(target, block.Frame, body, inverse),
            };
        }

        private ValueSource Value(Expression expression) => expression switch
        {
            LiteralExpression literal => new LiteralSource(literal.Value),
            LookupExpression lookup => new LookupSource(Value(lookup.Target), Value(lookup.Key)),
            PathExpression path => Path(path),
            _ => throw new InvalidOperationException($"Unknown expression {expression.GetType().Name}."),
        };

        private ValueSource Path(PathExpression path)
        {
            var segments = path.Segments.Select(s => new PathSegment(s)).ToArray();
            if (path.Start is PathStart.Root || (path.Start is PathStart.Context && path.Frame == 0))
            {
                if (segments.Length == 0) return new FrameSource(0, []);
                var slot = Array.IndexOf(variables, path.Segments[0]);
                return slot < 0 ? new LiteralSource(TemplateValue.Undefined) : new SlotSource(slot, segments[1..]);
            }
            return path.Start switch
            {
                PathStart.Context or PathStart.BlockItem => FrameSource.For(path.Frame, segments),
                PathStart.Parent => new ParentSource(path.Frame, path.Up, segments),
                PathStart.BlockKey => new FrameDataSource([path.Frame], FrameData.Key, segments),
                PathStart.Key => new FrameDataSource(path.Loops, FrameData.Key, segments),
                PathStart.Index => new FrameDataSource(path.Loops, FrameData.Index, segments),
                PathStart.First => new FrameDataSource(path.Loops, FrameData.First, segments),
                PathStart.Last => new FrameDataSource(path.Loops, FrameData.Last, segments),
                _ => new LiteralSource(TemplateValue.Undefined),
            };
        }
    }
}

/// <summary>One render: the variables, the context frames the blocks open, and the output.</summary>
internal sealed class RenderState
{
    public RenderState(RootValues root, int frames, RenderOutput output)
    {
        Root = root;
        Output = output;
        Frames = new Frame[frames + 1];
        Frames[0].Context = TemplateValue.Of(root);
    }

    public RootValues Root { get; }

    /// <summary>The context frames; frame 0 is the root's, so a block's parent context is always the frame below it.</summary>
    public Frame[] Frames { get; }

    public RenderOutput Output { get; }

    /// <summary>The includes of this render and how included prompts read the inputs; null when the template includes none.</summary>
    public IncludeContext? Includes { get; init; }

    /// <summary>This template and those that include it, for the templates it includes; null when it includes none.</summary>
    public CompiledPrompt.IncludeScope? Scope { get; init; }

    /// <summary>How many includes deep this template renders (0 for the rendered prompt itself).</summary>
    public int Depth { get; init; }

    public static void Render(RenderStep[] steps, RenderState state)
    {
        foreach (var step in steps) step.Render(state);
    }

    /// <summary>Renders <paramref name="steps"/> with <paramref name="context"/> in scope in <paramref name="frame"/>.</summary>
    public void RenderIn(int frame, TemplateValue context, RenderStep[] steps)
    {
        ref var f = ref Frames[frame];
        f.Context = context;
        Render(steps, this);
        f = default;
    }
}

/// <summary>A context frame: the value in scope and, in a loop, where the loop is.</summary>
/// <remarks>A loop sets the fields one by one: copying a whole frame into the array costs a bulk write barrier.</remarks>
internal struct Frame
{
    public TemplateValue Context;

    /// <summary>The member's name when the loop walks an object or the root; null when it walks an array.</summary>
    public string? Name;

    public int Index;
    public int Count;
    public bool Iterating;

    /// <summary>A section on <c>true</c>: it keeps the context it is in and adds no level, so <c>../</c> climbs past it (Handlebars).</summary>
    public bool Transparent;

    /// <summary><c>@key</c>: the member's name, or the item's index (made only when a template reads it).</summary>
    public readonly TemplateValue Key => Name is null ? TemplateValue.Of(Index) : TemplateValue.Of((object)Name);

    public void Enter(TemplateValue item, string? name, int index, int count)
    {
        Context = item;
        Name = name;
        Index = index;
        Count = count;
        Iterating = true;
    }
}

internal enum FrameData { Key, Index, First, Last }

internal abstract class RenderStep
{
    public abstract void Render(RenderState state);
}

internal sealed class TextStep(string text) : RenderStep
{
    public string Text { get; } = text;

    public override void Render(RenderState state) => state.Output.Write(Text);
}

/// <summary>The included prompts of one render, and the inputs checked against an included prompt's own contract.</summary>
internal sealed class IncludeContext(PromptIncludes includes, Func<CompiledPrompt, CompiledPrompt.IncludeScope, RootValues> rootFor)
{
    public PromptIncludes Includes { get; } = includes;

    /// <summary>The values <paramref name="prompt"/> renders with where the templates of <paramref name="including"/> include it.</summary>
    public RootValues RootFor(CompiledPrompt prompt, CompiledPrompt.IncludeScope including) => rootFor(prompt, including);
}

/// <summary><c>{{&gt; name}}</c>: the version the reference resolved to for this render, rendered with the variables.</summary>
internal sealed class IncludeStep(PromptReference reference) : RenderStep
{
    public override void Render(RenderState state) =>
        (state.Includes?.Includes ?? PromptIncludes.None).Find(reference).Template.RenderIncluded(state);
}

internal sealed class WriteStep(ValueSource value) : RenderStep
{
    public override void Render(RenderState state) => value.Read(state).Write(state.Output);
}

/// <summary><c>{{role}}</c> in a loop's body: the step templates run most.</summary>
internal sealed class WriteMemberStep(FrameMemberSource member) : RenderStep
{
    public FrameMemberSource Member { get; } = member;

    public override void Render(RenderState state) => Member.Write(state);
}

/// <summary><c>#if</c>, and with its branches swapped <c>#unless</c> and the inverted section.</summary>
internal sealed class IfStep(ValueSource test, RenderStep[] then, RenderStep[] otherwise) : RenderStep
{
    public override void Render(RenderState state) => RenderState.Render(test.Read(state).IsTruthy ? then : otherwise, state);
}

internal sealed class WithStep(ValueSource target, int frame, RenderStep[] body, RenderStep[] inverse) : RenderStep
{
    public override void Render(RenderState state)
    {
        var value = target.Read(state);
        if (!value.IsTruthy)
        {
            RenderState.Render(inverse, state);
            return;
        }
        state.RenderIn(frame, value, body);
    }
}

/// <summary><c>#each</c>: the body per item of an array or member of an object, else the inverse.</summary>
internal sealed class EachStep(ValueSource target, int frame, RenderStep[] body, RenderStep[] inverse) : RenderStep
{
    private readonly ItemPart[]? itemParts = ItemParts(body, frame);

    public override void Render(RenderState state)
    {
        var value = target.Read(state);
        if (itemParts is not null && WriteItems(value, itemParts, state.Output)) return;
        if (value.IsIterable && Loop.Iterate(value, frame, body, state)) return;
        state.RenderIn(frame, state.Frames[frame - 1].Context, inverse);
    }

    /// <summary>
    /// A body that writes only text and members of the item (<c>{{role}}: {{content}}</c>, the loop prompts run most) as
    /// parts that a loop over a JSON array or a .NET list writes per item directly, with no frame to enter and no step to
    /// call; null for any other body.
    /// </summary>
    private static ItemPart[]? ItemParts(RenderStep[] body, int frame)
    {
        var parts = new ItemPart[body.Length];
        for (var i = 0; i < body.Length; i++)
        {
            switch (body[i])
            {
                case TextStep text:
                    parts[i] = new ItemPart(text.Text, null);
                    break;
                case WriteMemberStep { Member.Frame: var read } member when read == frame:
                    parts[i] = new ItemPart(null, member.Member.Segment);
                    break;
                default:
                    return null;
            }
        }
        return parts;
    }

    /// <summary>Writes each item of a non-empty JSON array or .NET list as the body would; false for any other value.</summary>
    private static bool WriteItems(TemplateValue value, ItemPart[] parts, RenderOutput output)
    {
        if (value.TryGetJsonArray(out var json) && json.GetArrayLength() > 0)
        {
            var array = value.Scanned();
            foreach (var item in json.EnumerateArray())
                WriteItem(array.Inner(item), parts, output);
            return true;
        }
        if (value.TryGetList(out var list) && list.Count > 0)
        {
            for (var index = 0; index < list.Count; index++)
                WriteItem(TemplateValue.Of(list[index]), parts, output);
            return true;
        }
        return false;
    }

    private static void WriteItem(in TemplateValue item, ItemPart[] parts, RenderOutput output)
    {
        output.Step();
        foreach (var part in parts)
        {
            if (part.Member is null) output.Write(part.Text);
            else FrameMemberSource.Write(item, part.Member, output);
        }
    }
}

/// <summary>A part of a loop's body: its text, or the item's member it writes.</summary>
internal readonly record struct ItemPart(string? Text, PathSegment? Member);

/// <summary><c>{{#value}}</c>: per item of an array or object, once with the value in scope for another truthy value, else the inverse.</summary>
internal sealed class SectionStep(ValueSource target, int frame, RenderStep[] body, RenderStep[] inverse) : RenderStep
{
    public override void Render(RenderState state)
    {
        var value = target.Read(state);
        if (value.IsIterable)
        {
            if (!Loop.Iterate(value, frame, body, state)) RenderState.Render(inverse, state);
        }
        else if (!value.IsTruthy)
        {
            RenderState.Render(inverse, state);
        }
        else
        {
            // On true the body keeps the context it is in and adds no level for ../, as in Handlebars; on another value, the value is in scope.
            var onTrue = value.IsTrue;
            state.Frames[frame].Transparent = onTrue;
            state.RenderIn(frame, onTrue ? state.Frames[frame - 1].Context : value, body);
        }
    }
}

internal static class Loop
{
    /// <summary>Renders <paramref name="body"/> per item of an array or member of an object in <paramref name="frame"/>; false when there was none.</summary>
    public static bool Iterate(TemplateValue value, int frame, RenderStep[] body, RenderState state)
    {
        ref var f = ref state.Frames[frame];
        var count = 0;
        try
        {
            if (value.TryGetJsonArray(out var json))
            {
                count = json.GetArrayLength();
                var index = 0;
                var array = value.Scanned();
                foreach (var item in json.EnumerateArray())
                {
                    f.Enter(array.Inner(item), null, index++, count);
                    Item(body, state);
                }
            }
            else if (value.TryGetJsonObject(out json))
            {
                count = json.GetPropertyCount();
                var index = 0;
                var members = value.Scanned();
                foreach (var property in json.EnumerateObject())
                {
                    f.Enter(members.Inner(property.Value), property.Name, index++, count);
                    Item(body, state);
                }
            }
            else if (value.TryGetList(out var list))
            {
                count = list.Count;
                for (var index = 0; index < count; index++)
                {
                    f.Enter(TemplateValue.Of(list[index]), null, index, count);
                    Item(body, state);
                }
            }
            else
            {
                var items = value.CopyItems();
                count = items.Length;
                for (var index = 0; index < items.Length; index++)
                {
                    var (name, item) = items[index];
                    f.Enter(item, name, index, count);
                    Item(body, state);
                }
            }
        }
        finally
        {
            f = default;
        }
        return count > 0;
    }

    private static void Item(RenderStep[] body, RenderState state)
    {
        state.Output.Step();
        RenderState.Render(body, state);
    }
}

internal abstract class ValueSource
{
    public abstract TemplateValue Read(RenderState state);

    protected static TemplateValue Walk(TemplateValue value, PathSegment[] segments)
    {
        foreach (var segment in segments)
        {
            if (value.IsUndefined) break;
            value = value.Member(segment);
        }
        return value;
    }
}

internal sealed class LiteralSource(TemplateValue value) : ValueSource
{
    public override TemplateValue Read(RenderState state) => value;
}

internal sealed class SlotSource(int slot, PathSegment[] segments) : ValueSource
{
    public override TemplateValue Read(RenderState state) => Walk(state.Root[slot], segments);
}

internal sealed class FrameSource(int frame, PathSegment[] segments) : ValueSource
{
    public override TemplateValue Read(RenderState state) => Walk(state.Frames[frame].Context, segments);

    public static ValueSource For(int frame, PathSegment[] segments) =>
        segments is [var member] ? new FrameMemberSource(frame, member) : new FrameSource(frame, segments);
}

/// <summary>
/// <c>../name</c> inside a section: climbs <paramref name="up"/> levels from <paramref name="frame"/>, passing the frames of
/// sections on <c>true</c>, which add no level (<see cref="Frame.Transparent"/>); above the variables there is nothing.
/// </summary>
internal sealed class ParentSource(int frame, int up, PathSegment[] segments) : ValueSource
{
    public override TemplateValue Read(RenderState state)
    {
        var frames = state.Frames;
        var f = frame;
        for (var level = 0; ; level++)
        {
            // Frame 0 (the variables) is never transparent.
            while (frames[f].Transparent) f--;
            if (level == up) return Walk(frames[f].Context, segments);
            if (--f < 0) return TemplateValue.Undefined;
        }
    }
}

/// <summary>One member of a frame's value (<c>{{role}}</c> in a loop's body), the path templates read most.</summary>
internal sealed class FrameMemberSource(int frame, PathSegment member) : ValueSource
{
    public int Frame { get; } = frame;

    public PathSegment Segment { get; } = member;

    public override TemplateValue Read(RenderState state) => state.Frames[Frame].Context.Member(Segment);

    public void Write(RenderState state) => Write(state.Frames[Frame].Context, Segment, state.Output);

    /// <summary>Writes <paramref name="context"/>'s member; a JSON object's without making a value of it first.</summary>
    public static void Write(in TemplateValue context, PathSegment member, RenderOutput output)
    {
        if (!context.TryWriteJsonMember(member, output)) context.Member(member).Write(output);
    }
}

/// <summary>
/// <c>@index</c>, <c>@key</c>, <c>@first</c>, <c>@last</c> of the innermost of <paramref name="frames"/> that is looping
/// (nothing when none is), or a block's key parameter.
/// </summary>
internal sealed class FrameDataSource(int[] frames, FrameData data, PathSegment[] segments) : ValueSource
{
    public override TemplateValue Read(RenderState state)
    {
        foreach (var frame in frames)
        {
            ref var f = ref state.Frames[frame];
            if (f.Iterating) return Walk(Read(f), segments);
        }
        return TemplateValue.Undefined;
    }

    private TemplateValue Read(in Frame f) => data switch
    {
        FrameData.Key => f.Key,
        FrameData.Index => TemplateValue.Of(f.Index),
        FrameData.First => TemplateValue.Of(f.Index == 0),
        _ => TemplateValue.Of(f.Index == f.Count - 1),
    };
}

internal sealed class LookupSource(ValueSource target, ValueSource key) : ValueSource
{
    public override TemplateValue Read(RenderState state)
    {
        var name = key.Read(state).AsKey();
        return name is null ? TemplateValue.Undefined : target.Read(state).Member(new PathSegment(name));
    }
}
