namespace PromptVault.Core.Templates;

// The parse tree of the Handlebars subset (SPEC §2), shaped like Handlebars.js's own so its whitespace rules
// (standalone lines, ~) apply as written there. TemplateParser builds it; TemplateCompiler turns it into a renderer.

internal abstract class Statement;

/// <summary>Literal text. <see cref="Value"/> is what is written once whitespace control has trimmed it.</summary>
internal sealed class ContentStatement(string original) : Statement
{
    public string Original { get; } = original;
    public string Value { get; set; } = original;
    public bool LeftStripped { get; set; }
    public bool RightStripped { get; set; }
}

/// <summary><c>{{value}}</c>, <c>{{{value}}}</c> or <c>{{&amp;value}}</c>: the same, since output is never escaped.</summary>
internal sealed class MustacheStatement(Expression value, Strip strip) : Statement
{
    public Expression Value { get; } = value;
    public Strip Strip { get; } = strip;
}

/// <summary>
/// <c>{{&gt; name@selector}}</c>: another prompt's version, rendered with the variables. Unlike Handlebars.js it is never
/// standalone: the included text is trimmed as its own render is, and the line breaks around the tag stay.
/// </summary>
internal sealed class IncludeStatement(PromptReference reference, Strip strip) : Statement
{
    public PromptReference Reference { get; } = reference;
    public Strip Strip { get; } = strip;
}

internal sealed class CommentStatement(Strip strip) : Statement
{
    public Strip Strip { get; } = strip;
}

/// <summary>
/// <c>{{#helper target}}…{{else}}…{{/helper}}</c>, a section <c>{{#path}}</c> or an inverted section <c>{{^path}}</c>.
/// <see cref="Frame"/> is the context frame the body renders in (its parent's, unless the block changes the context); an
/// inverted section's is the frame its else renders in, a section's body.
/// </summary>
internal sealed class BlockStatement(BlockKind kind, Expression target, int frame) : Statement
{
    public BlockKind Kind { get; } = kind;
    public Expression Target { get; } = target;
    public int Frame { get; } = frame;
    public Program Program { get; } = new();
    public Program? Inverse { get; set; }
    public Strip OpenStrip { get; set; }
    public Strip InverseStrip { get; set; }
    public Strip CloseStrip { get; set; }
}

internal enum BlockKind { If, Unless, Each, With, Section, InvertedSection }

/// <summary>A block's body; <see cref="Chained"/> when it holds only the block of an <c>{{else if …}}</c>.</summary>
internal sealed class Program
{
    public List<Statement> Body { get; } = [];
    public bool Chained { get; set; }
}

/// <summary>Whether a tag's <c>~</c> trims the white space before it (<see cref="Open"/>) or after it (<see cref="Close"/>).</summary>
internal readonly record struct Strip(bool Open, bool Close);

internal abstract class Expression;

internal sealed class LiteralExpression(TemplateValue value) : Expression
{
    public TemplateValue Value { get; } = value;
}

/// <summary><c>lookup target key</c>, as a tag's value or a sub-expression.</summary>
internal sealed class LookupExpression(Expression target, Expression key) : Expression
{
    public Expression Target { get; } = target;
    public Expression Key { get; } = key;
}

/// <summary>A path, resolved when parsed to where it starts (<see cref="Start"/>, in frame <see cref="Frame"/>) and the members it then reads.</summary>
internal sealed class PathExpression(PathStart start, int frame, string[] segments) : Expression
{
    public PathStart Start { get; } = start;

    /// <summary>The context frame (0 is the root: the variables) or, for block parameters and data, the frame of the block that sets them.</summary>
    public int Frame { get; } = frame;

    public string[] Segments { get; } = segments;

    /// <summary>For loop data (<c>@index</c>…): the frames of the loops it may read, innermost first; the first that is looping wins.</summary>
    public int[] Loops { get; init; } = [];

    /// <summary>For <see cref="PathStart.Parent"/>: how many levels <c>../</c> climbs from <see cref="Frame"/>.</summary>
    public int Up { get; init; }
}

internal enum PathStart
{
    /// <summary>A context frame: <c>name</c>, <c>this</c>, <c>../name</c>; at frame 0, the variables.</summary>
    Context,
    /// <summary>
    /// <c>../name</c> with a section open around it: a section on <c>true</c> adds no level, so which frame it reads is
    /// known only at render (climbing <see cref="PathExpression.Up"/> levels from the frame the path is in).
    /// </summary>
    Parent,
    /// <summary><c>@root</c>: the variables wherever the path is.</summary>
    Root,
    BlockItem,
    BlockKey,
    Index,
    Key,
    First,
    Last,
    /// <summary>Nothing: an unknown <c>@data</c> name, or data outside any <c>#each</c>.</summary>
    Nothing,
}

/// <summary>A top-level name a template reads; <see cref="Iterated"/> when it is the target of a <c>#each</c>; <see cref="At"/> is where its tag starts.</summary>
internal sealed record TemplateReference(string Name, bool Iterated, int At);

/// <summary>
/// A parsed template: its tree, the top-level names it reads (in order of first use), how many context frames it nests, and
/// the prompts it includes (each once, in order of first use).
/// </summary>
internal sealed record ParsedTemplate(Program Program, IReadOnlyList<TemplateReference> References, int Frames, IReadOnlyList<PromptReference> Includes)
{
    /// <summary>
    /// The first tag whose value is a literal (<c>{{1}}</c>, <c>{{true}}</c>, <c>{{"s"}}</c>), or null: it renders the literal,
    /// where Handlebars reads a member of that name, so a version is not saved with one (one saved before renders as it did).
    /// </summary>
    public string? LiteralTag { get; init; }

    /// <summary>Where <see cref="LiteralTag"/> starts in the template.</summary>
    public int LiteralAt { get; init; }
}
