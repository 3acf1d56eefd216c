namespace PromptVault.Core.Templates;

/// <summary>
/// Handlebars' white space rules, ported from Handlebars.js's <c>WhitespaceControl</c> (which Handlebars.Net follows):
/// a block tag, <c>{{else}}</c> or comment alone on its line takes that line's indentation and line break with it
/// ("standalone"), and <c>~</c> trims all white space on its side.
/// </summary>
internal static class WhitespaceControl
{
    public static void Apply(Program root) => Visit(root, isRoot: true);

    private static void Visit(Program program, bool isRoot)
    {
        var body = program.Body;
        for (var i = 0; i < body.Count; i++)
        {
            var strip = Accept(body[i]);
            if (strip is null) continue;
            var s = strip.Value;
            var prevWhitespace = IsPrevWhitespace(body, i, isRoot);
            var nextWhitespace = IsNextWhitespace(body, i, isRoot);
            var openStandalone = s.OpenStandalone && prevWhitespace;
            var closeStandalone = s.CloseStandalone && nextWhitespace;
            var inlineStandalone = s.InlineStandalone && prevWhitespace && nextWhitespace;

            if (s.Close) OmitRight(body, i, multiple: true);
            if (s.Open) OmitLeft(body, i, multiple: true);
            if (inlineStandalone)
            {
                OmitRight(body, i);
                OmitLeft(body, i);
            }
            if (openStandalone)
            {
                var block = (BlockStatement)body[i];
                OmitRight(block.Program.Body, null);
                OmitLeft(body, i);
            }
            if (closeStandalone)
            {
                OmitRight(body, i);
                OmitLeft(LastProgram((BlockStatement)body[i]).Body, null);
            }
        }
    }

    /// <summary>
    /// The program the closing tag ends: after an <c>{{else if}}</c> chain, the last block's (Handlebars.Net's rule;
    /// Handlebars.js looks only at the outer block's else, and so keeps the indentation before a standalone close).
    /// </summary>
    private static Program LastProgram(BlockStatement block)
    {
        var program = block.Inverse ?? block.Program;
        while (program.Chained)
        {
            var chained = (BlockStatement)program.Body[^1];
            program = chained.Inverse ?? chained.Program;
        }
        return program;
    }

    private readonly record struct StripInfo(bool Open, bool Close, bool OpenStandalone, bool CloseStandalone, bool InlineStandalone);

    private static StripInfo? Accept(Statement statement) => statement switch
    {
        MustacheStatement mustache => new StripInfo(mustache.Strip.Open, mustache.Strip.Close, false, false, false),
        IncludeStatement include => new StripInfo(include.Strip.Open, include.Strip.Close, false, false, false),
        CommentStatement comment => new StripInfo(comment.Strip.Open, comment.Strip.Close, false, false, true),
        BlockStatement block => Block(block),
        _ => null,
    };

    private static StripInfo Block(BlockStatement block)
    {
        Visit(block.Program, isRoot: false);
        if (block.Inverse is not null) Visit(block.Inverse, isRoot: false);

        var program = block.Program;
        var inverse = block.Inverse;
        var firstInverse = inverse is { Chained: true } ? ((BlockStatement)inverse.Body[0]).Program : inverse;

        var strip = new StripInfo(block.OpenStrip.Open, block.CloseStrip.Close,
            OpenStandalone: IsNextWhitespace(program.Body, null, false),
            CloseStandalone: IsPrevWhitespace((firstInverse ?? program).Body, null, false),
            InlineStandalone: false);

        if (block.OpenStrip.Close) OmitRight(program.Body, null, multiple: true);
        if (inverse is not null)
        {
            if (block.InverseStrip.Open) OmitLeft(program.Body, null, multiple: true);
            if (block.InverseStrip.Close) OmitRight(firstInverse!.Body, null, multiple: true);
            if (block.CloseStrip.Open) OmitLeft(LastProgram(block).Body, null, multiple: true);
            if (IsPrevWhitespace(program.Body, null, false) && IsNextWhitespace(firstInverse!.Body, null, false))
            {
                OmitLeft(program.Body, null);
                OmitRight(firstInverse.Body, null);
            }
        }
        else if (block.CloseStrip.Open)
        {
            OmitLeft(program.Body, null, multiple: true);
        }
        return strip;
    }

    private static bool IsPrevWhitespace(List<Statement> body, int? index, bool isRoot)
    {
        var i = index ?? body.Count;
        var prev = i - 1 >= 0 && i - 1 < body.Count ? body[i - 1] : null;
        var sibling = i - 2 >= 0 && i - 2 < body.Count ? body[i - 2] : null;
        if (prev is null) return isRoot;
        return prev is ContentStatement content
            && (sibling is not null || !isRoot ? EndsWithLine(content.Original) : EndsWithLineOrStart(content.Original));
    }

    private static bool IsNextWhitespace(List<Statement> body, int? index, bool isRoot)
    {
        var i = index ?? -1;
        var next = i + 1 < body.Count ? body[i + 1] : null;
        var sibling = i + 2 < body.Count ? body[i + 2] : null;
        if (next is null) return isRoot;
        return next is ContentStatement content
            && (sibling is not null || !isRoot ? StartsWithLine(content.Original) : StartsWithLineOrEnd(content.Original));
    }

    private static void OmitRight(List<Statement> body, int? index, bool multiple = false)
    {
        var i = index is null ? 0 : index.Value + 1;
        if (i >= body.Count || body[i] is not ContentStatement current || (!multiple && current.RightStripped)) return;
        var original = current.Value;
        current.Value = multiple ? current.Value.TrimStart() : WithoutLeadingLineSpace(current.Value);
        current.RightStripped = current.Value != original;
    }

    private static void OmitLeft(List<Statement> body, int? index, bool multiple = false)
    {
        var i = index is null ? body.Count - 1 : index.Value - 1;
        if (i < 0 || body[i] is not ContentStatement current || (!multiple && current.LeftStripped)) return;
        var original = current.Value;
        current.Value = multiple ? current.Value.TrimEnd() : current.Value.TrimEnd(' ', '\t');
        current.LeftStripped = current.Value != original;
    }

    // Handlebars.js's patterns (/\r?\n\s*?$/ and friends) as scans: regular expressions here would backtrack over long
    // runs of white space, and templates are user input.

    /// <summary>The white space at the end holds a line break (<c>/\r?\n\s*?$/</c>).</summary>
    private static bool EndsWithLine(string text)
    {
        var trimmed = text.AsSpan().TrimEnd();
        return text.AsSpan(trimmed.Length).Contains('\n');
    }

    /// <summary><c>/(^|\r?\n)\s*?$/</c>: as <see cref="EndsWithLine"/>, or only white space.</summary>
    private static bool EndsWithLineOrStart(string text) => EndsWithLine(text) || text.AsSpan().IsWhiteSpace();

    /// <summary>The white space at the start holds a line break (<c>/^\s*?\r?\n/</c>).</summary>
    private static bool StartsWithLine(string text)
    {
        var trimmed = text.AsSpan().TrimStart();
        return text.AsSpan(0, text.Length - trimmed.Length).Contains('\n');
    }

    /// <summary><c>/^\s*?(\r?\n|$)/</c>: as <see cref="StartsWithLine"/>, or only white space.</summary>
    private static bool StartsWithLineOrEnd(string text) => StartsWithLine(text) || text.AsSpan().IsWhiteSpace();

    /// <summary><c>/^[ \t]*\r?\n?/</c> removed.</summary>
    private static string WithoutLeadingLineSpace(string text)
    {
        var i = 0;
        while (i < text.Length && text[i] is ' ' or '\t') i++;
        if (i < text.Length && text[i] == '\r') i++;
        if (i < text.Length && text[i] == '\n') i++;
        return text[i..];
    }
}
