using System.Globalization;

namespace PromptVault.Core.Templates;

/// <summary>
/// The one parser of the Handlebars subset templates accept (SPEC §2): the save-time checks read what it finds (the
/// top-level names, <see cref="TemplateLimits"/>, unknown helpers) and <see cref="TemplateCompiler"/> renders its tree,
/// so the two can never disagree. One linear pass; nesting is held to <see cref="TemplateLimits.MaxNestingDepth"/>
/// as it goes, and nothing recurses deeper than that.
/// </summary>
/// <remarks>
/// Names read inside <c>#each</c>, <c>#with</c> or a section belong to the item in scope and are not checked (SPEC §1);
/// <c>../name</c> and <c>@root.name</c> climb back out and are.
/// </remarks>
internal sealed class TemplateParser
{
    private static readonly HashSet<string> BlockHelpers = ["if", "unless", "each", "with"];

    /// <summary>The helpers there are: a tag starting with one of these names calls it.</summary>
    private static readonly string[] Helpers = [.. BlockHelpers, "lookup"];

    private readonly string _template;
    private readonly List<TemplateReference> _references = [];
    private readonly List<PromptReference> _includes = [];
    private readonly Stack<OpenBlock> _open = new();
    private Program _program = new();
    private int _tags;
    private int _depth;    // how deep blocks nest: each block, and each {{else if}} in a chain, is one level
    private int _frame;    // the context frame tags are in: #each, #with and sections open one
    private int _frames;   // the deepest frame
    private int _at;       // where the tag being read starts, for messages
    private string? _literal; // the first tag whose value is a literal ({{1}}), which the save-time checks refuse
    private int _literalAt;

    private TemplateParser(string template) => _template = template;

    /// <exception cref="InvalidInputException">The template breaks a rule of the grammar or a limit of <see cref="TemplateLimits"/>.</exception>
    public static ParsedTemplate Parse(string template)
    {
        var parser = new TemplateParser(template);
        var root = parser._program;
        parser.Run();
        WhitespaceControl.Apply(root);
        return new ParsedTemplate(root, parser._references, parser._frames, parser._includes) { LiteralTag = parser._literal, LiteralAt = parser._literalAt };
    }

    /// <summary>A block being read: its statement, its name as its closing tag must repeat it, and its block parameters.</summary>
    private sealed record OpenBlock(BlockStatement Block, string Name, string[] Parameters, Program Outer, int Depth, bool Chained, int At)
    {
        public bool InInverse { get; set; }
    }

    private void Run()
    {
        var position = 0;
        var textStart = 0;
        while (true)
        {
            var open = _template.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0) break;
            if (open > 0 && _template[open - 1] == '\\')
            {
                if (open > 1 && _template[open - 2] == '\\')
                {
                    // \\{{x}}: a backslash, then a tag.
                    AddContent(textStart, open - 1);
                }
                else
                {
                    // \{{x}}: written as it is, up to the next tag.
                    AddContent(textStart, open - 1);
                    var end = _template.IndexOf("{{", open + 2, StringComparison.Ordinal);
                    end = end < 0 ? _template.Length : _template[end - 1] == '\\' ? end - 1 : end;
                    AddContent(open, end);
                    position = textStart = end;
                    continue;
                }
            }
            else
            {
                AddContent(textStart, open);
            }
            _at = open;
            if (++_tags > TemplateLimits.MaxTags)
                throw Refuse("template_too_large", $"content has more than {TemplateLimits.MaxTags:N0} tags ({{{{…}}}}); the limit is {TemplateLimits.MaxTags:N0} tags per template.");
            position = textStart = ReadTag(open);
        }
        AddContent(textStart, _template.Length);
        if (_open.Count > 0)
        {
            // An {{else if}} chain is one block: it opened at its first tag.
            var unclosed = _open.First(block => !block.Chained);
            _at = unclosed.At;
            throw InvalidTemplate($"'{{{{#{unclosed.Name}}}}}' is never closed with '{{{{/{unclosed.Name}}}}}'.");
        }
    }

    private void AddContent(int start, int end)
    {
        if (end > start) _program.Body.Add(new ContentStatement(_template[start..end]));
    }

    /// <summary>Reads the tag at <paramref name="open"/> into the tree; returns the index after it.</summary>
    private int ReadTag(int open)
    {
        var start = open + 2;
        var openStrip = At(start) == '~';
        if (openStrip) start++;

        if (_template.AsSpan(start).StartsWith("!--"))
        {
            var from = start + 3;
            while (true)
            {
                var dashes = _template.IndexOf("--", from, StringComparison.Ordinal);
                if (dashes < 0) throw NeverClosed("--}}");
                var rest = _template.AsSpan(dashes + 2);
                if (rest.StartsWith("}}") || rest.StartsWith("~}}"))
                {
                    var closeStrip = rest[0] == '~';
                    _program.Body.Add(new CommentStatement(new Strip(openStrip, closeStrip)));
                    return dashes + 2 + (closeStrip ? 3 : 2);
                }
                from = dashes + 1;
            }
        }

        var triple = At(start) == '{';
        if (triple) start++;
        // {{x}}, {{x~}}; {{{x}}}, {{~{x}~}}: the ~ of a triple tag stands between its braces.
        var end = _template.IndexOf("}}", start, StringComparison.Ordinal);
        if (triple)
        {
            while (end >= 0 && !(end > start && (_template[end - 1] == '}' || (_template[end - 1] == '~' && end - 1 > start && _template[end - 2] == '}'))))
                end = _template.IndexOf("}}", end + 1, StringComparison.Ordinal);
        }
        if (end < 0) throw NeverClosed(triple ? "}}}" : "}}");
        var next = end + 2;
        var closeStripped = end > start && _template[end - 1] == '~';
        var innerEnd = closeStripped ? end - 1 : end;
        if (triple) innerEnd--;
        var inner = _template[start..innerEnd].Trim();
        var strip = new Strip(openStrip, closeStripped);

        if (triple)
        {
            AddMustache(inner, strip);
            return next;
        }
        if (inner.StartsWith('!'))
        {
            _program.Body.Add(new CommentStatement(strip));
            return next;
        }
        if (inner.Length == 0) throw InvalidTemplate("a tag is empty ('{{}}').");
        switch (inner[0])
        {
            case '#':
                OpenBlockTag(inner[1..].Trim(), strip, inverted: false);
                break;
            case '^':
                if (inner.Length == 1) Else("", strip);
                else OpenBlockTag(inner[1..].Trim(), strip, inverted: true);
                break;
            case '/':
                Close(inner[1..].Trim(), strip);
                break;
            case '>':
                AddInclude(inner[1..].Trim(), strip);
                break;
            case '&':
                AddMustache(inner[1..].Trim(), strip);
                break;
            case '*':
                throw InvalidTemplate($"'{{{{{inner}}}}}' is a decorator, which templates do not support.");
            default:
                if (inner == "else" || (inner.StartsWith("else", StringComparison.Ordinal) && char.IsWhiteSpace(inner[4])))
                    Else(inner[4..].Trim(), strip);
                else
                    AddMustache(inner, strip);
                break;
        }
        return next;
    }

    private char At(int index) => index < _template.Length ? _template[index] : '\0';

    private void AddMustache(string inner, Strip strip)
    {
        var call = new TagReader(inner, this).ReadCall();
        if (call.BlockParameters.Length > 0) throw InvalidTemplate($"'{{{{{inner}}}}}' has block parameters, which only #each and #with take.");
        Expression value;
        if (call.Helper is "lookup")
        {
            value = Lookup(call);
        }
        else if (call.Helper is not null && BlockHelpers.Contains(call.Helper))
        {
            throw InvalidTemplate($"'{call.Helper}' is a block helper: write {{{{#{call.Helper} …}}}}…{{{{/{call.Helper}}}}}.");
        }
        else if (call.Arguments.Count > 1 || call.HasHash)
        {
            throw UnknownHelper(call.Name);
        }
        else
        {
            value = call.Arguments[0];
            if (value is LiteralExpression && _literal is null)
            {
                _literal = inner;
                _literalAt = _at;
            }
        }
        CheckDepth(_depth + call.Depth);
        _program.Body.Add(new MustacheStatement(value, strip));
    }

    private void AddInclude(string reference, Strip strip)
    {
        // Included prompts render with the variables (their contract joins this one's), so only where the variables are in scope.
        if (_frame > 0)
            throw InvalidTemplate($"'{{{{> {reference}}}}}' is inside #each, #with or a section; an included prompt renders with the variables, so include it outside them.");
        var parsed = PromptReference.Parse(reference);
        if (!_includes.Contains(parsed)) _includes.Add(parsed);
        _program.Body.Add(new IncludeStatement(parsed, strip));
    }

    private LookupExpression Lookup(Call call)
    {
        // Arguments[0] is the helper's own name.
        if (call.Arguments.Count is not (3 or 4))
            throw InvalidTemplate("'lookup' needs two or three arguments, e.g. {{lookup items 0}}.");
        return new LookupExpression(call.Arguments[1], call.Arguments[2]);
    }

    private void OpenBlockTag(string inner, Strip strip, bool inverted)
    {
        if (inner.StartsWith('>')) throw Refuse("unsupported_template",
            $"content uses a partial block '{{{{#{inner}}}}}', which templates do not support; include the prompt with {{{{{inner}}}}}.");
        if (inner.StartsWith('*')) throw InvalidTemplate($"'{{{{#{inner}}}}}' is a decorator, which templates do not support.");
        var call = new TagReader(inner, this, iterated: !inverted && ReadsHelper(inner, "each")).ReadCall();
        CheckDepth(_depth + call.Depth);
        var (block, name) = StartBlock(call, inverted, inner);
        block.OpenStrip = strip;
        _program.Body.Add(block);
        Push(block, name, call.BlockParameters, chained: false);
    }

    private static bool ReadsHelper(string inner, string helper) =>
        inner.StartsWith(helper, StringComparison.Ordinal) && (inner.Length == helper.Length || char.IsWhiteSpace(inner[helper.Length]));

    /// <summary>The block a call opens, and the name its closing tag must give.</summary>
    private (BlockStatement Block, string Name) StartBlock(Call call, bool inverted, string inner)
    {
        if (call.Helper is not null && BlockHelpers.Contains(call.Helper) && !inverted)
        {
            if (call.Arguments.Count == 1)
                throw InvalidTemplate($"'{{{{#{call.Helper}}}}}' needs a value to test or iterate, e.g. {{{{#{call.Helper} items}}}}.");
            if (call.Arguments.Count > 2)
                throw InvalidTemplate($"'{{{{#{inner}}}}}' gives #{call.Helper} more than one value.");
            var kind = call.Helper switch { "if" => BlockKind.If, "unless" => BlockKind.Unless, "each" => BlockKind.Each, _ => BlockKind.With };
            var maxParameters = kind switch { BlockKind.Each => 2, BlockKind.With => 1, _ => 0 };
            if (call.BlockParameters.Length > maxParameters)
                throw InvalidTemplate($"'{{{{#{inner}}}}}' has more block parameters than #{call.Helper} sets ({maxParameters}).");
            var frame = kind is BlockKind.Each or BlockKind.With ? _frame + 1 : _frame;
            return (new BlockStatement(kind, call.Arguments[1], frame), call.Helper);
        }
        if (call.Helper is "lookup") throw InvalidTemplate("'lookup' is not a block helper; write {{lookup items 0}}.");
        if (call.Arguments.Count > 1 || call.HasHash) throw UnknownHelper(call.Name);
        if (call.BlockParameters.Length > 0) throw InvalidTemplate($"'{{{{#{inner}}}}}' has block parameters, which only #each and #with take.");
        if (call.Arguments[0] is not PathExpression || !char.IsLetter(call.Name[0]) && call.Name[0] is not ('_' or '[')
            || call.Name == "this" || call.Name.StartsWith("this.", StringComparison.Ordinal) || call.Name.StartsWith("this/", StringComparison.Ordinal))
            throw InvalidTemplate($"'{{{{{(inverted ? '^' : '#')}{inner}}}}}' opens a section on something other than a variable or its member.");
        // A section ({{#items}}…{{/items}}) renders its body with the value in scope, once or per item; so does an inverted
        // section its else ({{^items}}none{{else}}…{{/items}}), which is a section with its branches swapped.
        return (new BlockStatement(inverted ? BlockKind.InvertedSection : BlockKind.Section, call.Arguments[0], _frame + 1), call.Name);
    }

    private void Push(BlockStatement block, string name, string[] parameters, bool chained)
    {
        var open = new OpenBlock(block, name, parameters, _program, _depth, chained, _at);
        _open.Push(open);
        CheckDepth(++_depth);
        _program = block.Program;
        _frame = FrameOf(open);
        _frames = Math.Max(_frames, block.Frame);
    }

    private void Else(string inner, Strip strip)
    {
        if (!_open.TryPeek(out var current))
            throw InvalidTemplate("'{{else}}' is outside any block.");
        if (current.InInverse)
            throw InvalidTemplate($"'{{{{#{current.Name}}}}}' has a second '{{{{else}}}}'.");
        current.InInverse = true;
        var block = current.Block;
        block.InverseStrip = strip;
        block.Inverse = new Program();
        _program = block.Inverse;
        _frame = FrameOf(current);
        if (inner.Length == 0) return;

        // {{else if x}} opens a block inside the else branch, closed by the same {{/if}}.
        var call = new TagReader(inner, this, iterated: ReadsHelper(inner, "each")).ReadCall();
        if (call.Helper is null || !BlockHelpers.Contains(call.Helper))
            throw InvalidTemplate($"'{{{{else {inner}}}}}' chains something other than if, unless, each or with.");
        CheckDepth(_depth + call.Depth);
        block.Inverse.Chained = true;
        var (chained, _) = StartBlock(call, inverted: false, inner);
        chained.OpenStrip = strip;
        block.Inverse.Body.Add(chained);
        Push(chained, current.Name, call.BlockParameters, chained: true);
    }

    /// <summary>
    /// The frame the branch of <paramref name="block"/> being read renders in: the block's own for the branch that gets the
    /// new context (a section's body is an inverted section's else), its parent's for the other; but #each's else gets a
    /// frame of its own with the parent's context, so <c>../</c> there climbs one more level, as it did in Handlebars.Net
    /// (Handlebars.js climbs from the parent). #if and #unless render in their parent's frame, which is their own.
    /// </summary>
    private static int FrameOf(OpenBlock block) =>
        (block.Block.Kind is BlockKind.With && block.InInverse) || (block.Block.Kind is BlockKind.Section or BlockKind.InvertedSection && !IsSectionBody(block))
            ? block.Block.Frame - 1
            : block.Block.Frame;

    private void Close(string name, Strip strip)
    {
        if (!_open.TryPeek(out var current))
            throw InvalidTemplate($"'{{{{/{name}}}}}' closes a block that was never opened.");
        if (current.Name != name)
            throw InvalidTemplate($"'{{{{/{name}}}}}' closes '{{{{#{current.Name}}}}}'.");
        // A chain of {{else if}}s ends with the one {{/if}} that closes them all.
        while (true)
        {
            var closed = _open.Pop();
            closed.Block.CloseStrip = strip;
            _program = closed.Outer;
            _depth = closed.Depth;
            _frame = _open.TryPeek(out var parent) ? FrameOf(parent) : 0;
            if (!closed.Chained) break;
        }
    }

    private void CheckDepth(int depth)
    {
        if (depth <= TemplateLimits.MaxNestingDepth) return;
        throw Refuse("template_too_deep",
            $"content nests blocks more than {TemplateLimits.MaxNestingDepth} deep; the nesting depth limit is {TemplateLimits.MaxNestingDepth}.");
    }


    private InvalidInputException NeverClosed(string closer) => InvalidTemplate($"a tag is never closed with '{closer}'.");

    private InvalidInputException UnknownHelper(string name) =>
        Refuse("unknown_helper", $"content calls '{name}', which is not a helper (available: if, unless, each, with, lookup).");

    private InvalidInputException InvalidTemplate(InvariantMessage message) =>
        Refuse("invalid_template", "content is not a valid template: " + message.ToStringAndClear());

    /// <summary>A refusal of the tag being read (at <see cref="_at"/>).</summary>
    private InvalidInputException Refuse(string code, string problem) => Refuse(_template, _at, code, problem);

    /// <summary>A refusal of the tag at <paramref name="at"/> in <paramref name="template"/>: its message ends with the tag's line and column, which
    /// <see cref="InvalidInputException.Location"/> carries apart. Counted only when refusing, so a template that parses pays nothing for it.</summary>
    internal static InvalidInputException Refuse(string template, int at, string code, string problem)
    {
        var lineStart = template.LastIndexOf('\n', Math.Max(0, at - 1)) + 1;
        var (line, column) = (template.AsSpan(0, at).Count('\n') + 1, at - lineStart + 1);
        return new(code, $"{problem.TrimEnd('.')} (line {line}, column {column}).", "content") { Location = new TemplateLocation(line, column, problem) };
    }

    /// <summary>
    /// What one tag calls: its first token's <see cref="Name"/> (and <see cref="Helper"/> when that is a helper's name),
    /// every argument (the first token included), whether it has <c>key=value</c> pairs, its block parameters, and how
    /// deep its sub-expressions nest.
    /// </summary>
    private sealed record Call(string Name, string? Helper, List<Expression> Arguments, bool HasHash, string[] BlockParameters, int Depth);

    /// <summary>Reads the expressions of one tag, resolving each path against the blocks open around it.</summary>
    private ref struct TagReader(string text, TemplateParser parser, bool iterated = false)
    {
        private int _i;
        private int _depth;
        private int _deepest;

        public Call ReadCall()
        {
            SkipSpace();
            var nameStart = _i;
            var arguments = new List<Expression>();
            var hasHash = false;
            string[] blockParameters = [];
            while (true)
            {
                SkipSpace();
                if (_i >= text.Length) break;
                if (arguments.Count > 0 && StartsWord("as") && Peek(2) is ' ' or '\t' or '\n' or '\r' or '|')
                {
                    blockParameters = ReadBlockParameters();
                    break;
                }
                if (arguments.Count == 0 && IsHelperName())
                {
                    arguments.Add(new LiteralExpression(TemplateValue.Undefined));
                    continue;
                }
                if (TryReadHashKey())
                {
                    hasHash = true;
                    Read(isArgument: true);
                    continue;
                }
                arguments.Add(Read(isArgument: arguments.Count > 0));
            }
            if (arguments.Count == 0) throw parser.InvalidTemplate($"'{{{{{text}}}}}' names nothing.");
            var name = text[nameStart..].Split(' ', '\t', '\r', '\n')[0];
            var helper = Array.IndexOf(Helpers, name) >= 0 ? name : null;
            return new Call(name, helper, arguments, hasHash, blockParameters, _deepest);
        }

        /// <summary>Whether the tag starts with a helper's name, which is read as the helper rather than as a path.</summary>
        private bool IsHelperName()
        {
            foreach (var helper in Helpers)
            {
                if (!StartsWord(helper) || !(Peek(helper.Length) == '\0' || char.IsWhiteSpace(Peek(helper.Length)))) continue;
                _i += helper.Length;
                return true;
            }
            return false;
        }

        private bool StartsWord(string word) => text.AsSpan(_i).StartsWith(word, StringComparison.Ordinal);

        private char Peek(int offset) => _i + offset < text.Length ? text[_i + offset] : '\0';

        private void SkipSpace()
        {
            while (_i < text.Length && char.IsWhiteSpace(text[_i])) _i++;
        }

        private string[] ReadBlockParameters()
        {
            _i += 2;
            SkipSpace();
            var close = _i < text.Length && text[_i] == '|' ? text.IndexOf('|', _i + 1) : -1;
            if (close < 0) throw parser.InvalidTemplate($"'{{{{{text}}}}}' has block parameters not written as |name …|.");
            var names = text[(_i + 1)..close].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            _i = close + 1;
            SkipSpace();
            if (_i < text.Length || names.Length == 0 || !names.All(IsIdentifier))
                throw parser.InvalidTemplate($"'{{{{{text}}}}}' has block parameters not written as |name …|.");
            return names;
        }

        /// <summary>Skips <c>key=</c> of a hash argument (ignored: no helper here takes one) if that is what follows.</summary>
        private bool TryReadHashKey()
        {
            var end = _i;
            while (end < text.Length && IsIdChar(text[end])) end++;
            if (end == _i || end >= text.Length || text[end] != '=') return false;
            _i = end + 1;
            return true;
        }

        private Expression Read(bool isArgument)
        {
            SkipSpace();
            if (_i >= text.Length) throw parser.InvalidTemplate($"'{{{{{text}}}}}' ends where a value should be.");
            var c = text[_i];
            if (c == '(')
            {
                _i++;
                _deepest = Math.Max(_deepest, ++_depth);
                parser.CheckDepth(parser._depth + _depth); // before reading deeper: this reader recurses per level
                SkipSpace();
                var helperStart = _i;
                while (_i < text.Length && IsIdChar(text[_i])) _i++;
                var helper = text[helperStart.._i];
                if (helper != "lookup")
                    throw helper.Length == 0 ? parser.InvalidTemplate($"'{{{{{text}}}}}' has a sub-expression that calls nothing.") : parser.UnknownHelper(helper);
                var target = Read(true);
                var key = Read(true);
                SkipSpace();
                if (_i < text.Length && text[_i] != ')') Read(true); // lookup's optional third argument, unused
                SkipSpace();
                if (_i >= text.Length || text[_i] != ')') throw parser.InvalidTemplate($"'{{{{{text}}}}}' has an unclosed '('.");
                _i++;
                _depth--;
                return new LookupExpression(target, key);
            }
            if (c == ')') throw parser.InvalidTemplate($"'{{{{{text}}}}}' has a ')' without its '('.");
            if (c is '"' or '\'')
            {
                var close = text.IndexOf(c, _i + 1);
                if (close < 0) throw parser.InvalidTemplate($"'{{{{{text}}}}}' has an unclosed string.");
                var literal = text[(_i + 1)..close];
                _i = close + 1;
                return new LiteralExpression(TemplateValue.Of((object)literal));
            }
            var token = ReadPathText();
            if (token is "true" or "false") return new LiteralExpression(TemplateValue.Of(token == "true"));
            if (token is "null" or "undefined") return new LiteralExpression(TemplateValue.Undefined);
            if (IsNumber(token))
            {
                object number = long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole)
                    ? whole
                    : double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture);
                return new LiteralExpression(TemplateValue.Of(number));
            }
            return parser.Resolve(token, text, iterated && isArgument && _depth == 0);
        }

        /// <summary>A path's text: segments of name characters or [anything but ']'], joined by '.' or '/'.</summary>
        private string ReadPathText()
        {
            var start = _i;
            while (_i < text.Length)
            {
                var c = text[_i];
                if (c == '[')
                {
                    var close = text.IndexOf(']', _i);
                    if (close < 0) throw parser.InvalidTemplate($"'{{{{{text}}}}}' has an unclosed '['.");
                    _i = close + 1;
                }
                else if (IsIdChar(c) || c is '.' or '/' or '@')
                {
                    _i++;
                }
                else
                {
                    break;
                }
            }
            if (_i == start) throw parser.InvalidTemplate($"'{{{{{text}}}}}' has an unexpected '{text[_i]}'.");
            return text[start.._i];
        }

        private static bool IsNumber(string token) =>
            token.Length > 0 && (char.IsAsciiDigit(token[0]) || (token[0] == '-' && token.Length > 1 && char.IsAsciiDigit(token[1])))
            && double.TryParse(token, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _);
    }

    /// <summary>Handlebars.js's name characters: anything but white space and its punctuation.</summary>
    private static bool IsIdChar(char c) => !char.IsWhiteSpace(c) && "!\"#%&'()*+,./;<=>@[\\]^`{|}~".IndexOf(c) < 0;

    private static bool IsIdentifier(string name) => name.All(IsIdChar);

    /// <summary>Resolves a path's text against the open blocks, and records it when it reads a variable.</summary>
    private PathExpression Resolve(string path, string tag, bool iterated)
    {
        var segments = SplitPath(path, tag);
        if (segments.Count > 0 && segments[0] == "@root")
        {
            segments.RemoveAt(0);
            AddReference(segments, iterated);
            return new PathExpression(PathStart.Root, 0, [.. segments]);
        }
        if (segments.Count > 0 && segments[0].StartsWith('@'))
        {
            var data = segments[0][1..] switch
            {
                "index" => PathStart.Index,
                "key" => PathStart.Key,
                "first" => PathStart.First,
                "last" => PathStart.Last,
                _ => PathStart.Nothing,
            };
            var loops = Loops();
            return loops.Length == 0 || segments.Count > 1 ? new PathExpression(PathStart.Nothing, 0, []) : new PathExpression(data, loops[0], []) { Loops = loops };
        }

        var up = 0;
        while (segments.Count > 0 && segments[0] == "..")
        {
            segments.RemoveAt(0);
            up++;
        }
        var explicitThis = false;
        if (segments.Count > 0 && segments[0] is "this" or ".")
        {
            segments.RemoveAt(0);
            explicitThis = true;
        }
        if (segments.Any(s => s is ".." or "." or "this"))
            throw InvalidTemplate($"'{path}' uses '..', '.' or 'this' after a name; they may only start a path.");

        if (up == 0 && !explicitThis && segments.Count > 0)
        {
            foreach (var block in _open)
            {
                if (block.InInverse) continue;
                var parameter = Array.IndexOf(block.Parameters, segments[0]);
                if (parameter < 0) continue;
                segments.RemoveAt(0);
                return new PathExpression(parameter == 0 ? PathStart.BlockItem : PathStart.BlockKey, block.Block.Frame, [.. segments]);
            }
        }

        // Above the variables there is nothing (Handlebars.Net reads nothing there, as Handlebars.js does).
        if (up > _frame) return new PathExpression(PathStart.Nothing, 0, []);
        var frame = _frame - up;
        if (frame == 0)
        {
            if (segments.Count == 0 && (explicitThis || up > 0))
                throw InvalidTemplate("'{{this}}' is the current item, which exists only inside #each or #with; name the variable instead.");
            AddReference(segments, iterated);
        }
        // A section on true adds no level, so ../ climbs past it: only at render is it known which sections are.
        if (up > 0 && _open.Any(IsSectionBody)) return new PathExpression(PathStart.Parent, _frame, [.. segments]) { Up = up };
        return new PathExpression(PathStart.Context, frame, [.. segments]);
    }

    /// <summary>
    /// The frames whose loop <c>@index</c> and friends may read, innermost first: sections (which iterate only arrays
    /// and objects; on another value the data of the loop around them shows through), up to the innermost #each.
    /// </summary>
    private int[] Loops()
    {
        var frames = new List<int>();
        foreach (var block in _open)
        {
            if (IsSectionBody(block)) frames.Add(block.Block.Frame);
            if (block.InInverse || block.Block.Kind is not BlockKind.Each) continue;
            frames.Add(block.Block.Frame);
            break;
        }
        return [.. frames];
    }

    /// <summary>
    /// Whether tags are in the body of a section (<c>{{#name}}</c>) or the else of an inverted one (<c>{{^name}}…{{else}}</c>),
    /// which renders in a frame of its own once or per item.
    /// </summary>
    private static bool IsSectionBody(OpenBlock block) => block.Block.Kind switch
    {
        BlockKind.Section => !block.InInverse,
        BlockKind.InvertedSection => block.InInverse,
        _ => false,
    };

    private void AddReference(List<string> segments, bool iterated)
    {
        if (segments.Count == 0) return;
        // Iterating a member of the variable (#each order.items) says nothing about the variable's own type.
        _references.Add(new TemplateReference(segments[0], iterated && segments.Count == 1, _at));
    }

    private List<string> SplitPath(string path, string tag)
    {
        var segments = new List<string>();
        var i = 0;
        if (path.StartsWith('@'))
        {
            var end = 1;
            while (end < path.Length && path[end] is not ('.' or '/')) end++;
            segments.Add(path[..end]);
            i = end < path.Length ? end + 1 : end;
        }
        while (i < path.Length)
        {
            if (path.AsSpan(i) is "..")
            {
                segments.Add("..");
                break;
            }
            if (path.AsSpan(i).StartsWith("../"))
            {
                segments.Add("..");
                i += 3;
                continue;
            }
            if (path[i] == '[')
            {
                var close = path.IndexOf(']', i);
                segments.Add(path[(i + 1)..close]);
                i = close + 1;
            }
            else
            {
                var end = i;
                while (end < path.Length && path[end] is not ('.' or '/' or '[')) end++;
                if (end == i)
                {
                    if (path[i] == '.' && segments.Count == 0 && (i + 1 == path.Length || path[i + 1] == '/'))
                    {
                        segments.Add(".");
                        i += 2;
                        continue;
                    }
                    throw InvalidTemplate($"'{{{{{tag}}}}}' has an empty name in the path '{path}'.");
                }
                segments.Add(path[i..end]);
                i = end;
            }
            if (i == path.Length) break;
            if (path[i] is not ('.' or '/')) throw InvalidTemplate($"'{{{{{tag}}}}}' has an unexpected '{path[i]}' in the path '{path}'.");
            i++;
            if (i == path.Length) throw InvalidTemplate($"'{{{{{tag}}}}}' has a path ending in a separator: '{path}'.");
        }
        return segments;
    }
}
