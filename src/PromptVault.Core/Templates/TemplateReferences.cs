namespace PromptVault.Core.Templates;

/// <summary>
/// Finds the top-level variable names a Handlebars template reads, so a typo is refused when a version is saved.
/// Names read inside <c>#each</c> or <c>#with</c> belong to the item in scope and are not checked (SPEC §1);
/// <c>../name</c> and <c>@root.name</c> climb back out and are. The same linear scan holds the template to
/// <see cref="TemplateLimits.MaxTags"/> and <see cref="TemplateLimits.MaxNestingDepth"/> before anything recursive reads it.
/// </summary>
internal static class TemplateReferences
{
    private static readonly HashSet<string> BuiltInHelpers = ["if", "unless", "each", "with", "lookup", "else"];
    private static readonly HashSet<string> ScopeHelpers = ["each", "with"];

    /// <summary>The top-level names the template reads, in order of first use; <c>Iterated</c> when one is a <c>#each</c> target.</summary>
    /// <exception cref="InvalidInputException">The template breaks a rule of the grammar or a limit of <see cref="TemplateLimits"/>.</exception>
    public static IReadOnlyList<TemplateReference> FindRootNames(string template)
    {
        var names = new List<TemplateReference>();
        var blocks = new Stack<Block>();
        var itemDepth = 0; // blocks that opened a new item scope (#each/#with/sections)
        var depth = 0;     // how deep the compiled template nests: the blocks plus their chained {{else if}}s
        var tags = 0;
        var position = 0;
        while (true)
        {
            var open = template.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0) break;
            if (open > 0 && template[open - 1] == '\\') { position = open + 2; continue; }

            if (++tags > TemplateLimits.MaxTags)
                throw new InvalidInputException("template_too_large",
                    $"content has more than {TemplateLimits.MaxTags:N0} tags ({{{{…}}}}); the limit is {TemplateLimits.MaxTags:N0} tags per template.", "content");
            var (inner, next) = ReadTag(template, open);
            position = next;
            if (inner is null) continue;
            CheckDepth(depth + SubExpressionDepth(inner), template, open);

            switch (inner[0])
            {
                case '#':
                {
                    var tokens = WithoutBlockParameters(Tokenize(inner[1..]));
                    if (tokens.Count == 0) continue;
                    if (BuiltInHelpers.Contains(tokens[0]))
                    {
                        if (tokens.Count == 1)
                            throw InvalidTemplate($"'{{{{#{tokens[0]}}}}}' needs a value to test or iterate, e.g. {{{{#{tokens[0]} items}}}}.");
                        foreach (var token in tokens.Skip(1)) AddIfRoot(token, itemDepth, names, iterated: tokens[0] == "each");
                        Push(ScopeHelpers.Contains(tokens[0]));
                    }
                    else if (tokens.Count == 1)
                    {
                        // A section on a value ({{#items}}…{{/items}}) reads it and, like #each, renders its body with the value in scope.
                        AddIfRoot(tokens[0], itemDepth, names);
                        Push(itemScope: true);
                    }
                    else
                    {
                        throw UnknownHelper(tokens[0]);
                    }
                    break;
                }
                case '^':
                {
                    var tokens = Tokenize(inner[1..]);
                    if (tokens.Count == 0) continue; // {{^}} is an else
                    AddIfRoot(tokens[0], itemDepth, names);
                    Push(itemScope: false);
                    break;
                }
                case '/':
                    if (blocks.TryPop(out var closed))
                    {
                        depth -= closed.Depth;
                        if (closed.ItemScope) itemDepth--;
                    }
                    break;
                case '>':
                    throw new InvalidInputException("unsupported_template",
                        $"content uses a partial '{{{{{inner.Trim()}}}}}': prompt references are not supported yet.", "content");
                default:
                {
                    var tokens = Tokenize(inner.TrimStart('&'));
                    if (tokens.Count == 0) continue;
                    if (tokens[0] == "else" && tokens.Count > 1 && blocks.TryPop(out var chained))
                    {
                        // {{else if x}} compiles to a block nested in the else branch, closed by the same {{/if}}.
                        blocks.Push(chained with { Depth = chained.Depth + 1 });
                        CheckDepth(++depth, template, open);
                    }
                    var arguments = BuiltInHelpers.Contains(tokens[0]) ? tokens.Skip(1) : tokens;
                    if (tokens.Count > 1 && !BuiltInHelpers.Contains(tokens[0]))
                        throw UnknownHelper(tokens[0]);
                    if (tokens[0] == "lookup" && tokens.Count is not (3 or 4))
                        throw InvalidTemplate("'lookup' needs two or three arguments, e.g. {{lookup items 0}}.");
                    foreach (var token in arguments) AddIfRoot(token, itemDepth, names);
                    break;
                }
            }

            void Push(bool itemScope)
            {
                blocks.Push(new Block(itemScope, 1));
                if (itemScope) itemDepth++;
                CheckDepth(++depth, template, open);
            }
        }
        return names;
    }

    /// <summary>An open block: whether it opened an item scope, and how many levels it adds (1, plus one per chained else).</summary>
    private readonly record struct Block(bool ItemScope, int Depth);

    private static void CheckDepth(int depth, string template, int at)
    {
        if (depth <= TemplateLimits.MaxNestingDepth) return;
        var (line, column) = LineAndColumn(template, at);
        throw new InvalidInputException("template_too_deep",
            $"content nests blocks more than {TemplateLimits.MaxNestingDepth} deep (at line {line}, column {column}); the nesting depth limit is {TemplateLimits.MaxNestingDepth}.", "content");
    }

    /// <summary>How deep the parenthesised sub-expressions of one tag nest (parentheses inside string literals aside).</summary>
    private static int SubExpressionDepth(string inner)
    {
        int depth = 0, deepest = 0;
        char? quote = null;
        foreach (var c in inner)
        {
            if (quote is not null) { if (c == quote) quote = null; }
            else if (c is '"' or '\'') quote = c;
            else if (c == '(') deepest = Math.Max(deepest, ++depth);
            else if (c == ')') depth--;
        }
        return deepest;
    }

    private static (int Line, int Column) LineAndColumn(string template, int at)
    {
        var lineStart = template.LastIndexOf('\n', Math.Max(0, at - 1)) + 1;
        return (template.AsSpan(0, at).Count('\n') + 1, at - lineStart + 1);
    }

    /// <summary>Reads the tag starting at <paramref name="open"/>; returns its inner text (null for comments) and the index after it.</summary>
    private static (string? Inner, int Next) ReadTag(string template, int open)
    {
        if (template.AsSpan(open).StartsWith("{{!--"))
            return (null, EndOf(template, open, open, "--}}"));
        var triple = template.AsSpan(open).StartsWith("{{{");
        var closer = triple ? "}}}" : "}}";
        var start = open + (triple ? 3 : 2);
        var next = EndOf(template, open, start, closer);
        var inner = template[start..(next - closer.Length)].Trim().Trim('~').Trim();
        if (inner.StartsWith('!')) return (null, next);
        return (inner.Length == 0 ? null : inner, next);
    }

    private static int EndOf(string template, int open, int from, string closer)
    {
        var end = template.IndexOf(closer, from, StringComparison.Ordinal);
        if (end >= 0) return end + closer.Length;
        var (line, column) = LineAndColumn(template, open);
        throw InvalidTemplate($"the tag opened at line {line}, column {column} is never closed with '{closer}'.");
    }

    private static List<string> Tokenize(string expression)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < expression.Length)
        {
            var c = expression[i];
            if (char.IsWhiteSpace(c) || c is '(' or ')') { i++; continue; }
            var start = i;
            if (c is '"' or '\'')
            {
                var end = expression.IndexOf(c, i + 1);
                i = end < 0 ? expression.Length : end + 1;
            }
            else if (c == '[')
            {
                var end = expression.IndexOf(']', i);
                i = end < 0 ? expression.Length : end + 1;
                while (i < expression.Length && !char.IsWhiteSpace(expression[i]) && expression[i] is not ('(' or ')')) i++;
            }
            else
            {
                while (i < expression.Length && !char.IsWhiteSpace(expression[i]) && expression[i] is not ('(' or ')')) i++;
            }
            tokens.Add(expression[start..i]);
        }
        return tokens;
    }

    /// <summary>Drops block parameters (<c>as |item index|</c>): they name what is in scope, they read no variable.</summary>
    private static List<string> WithoutBlockParameters(List<string> tokens)
    {
        var at = tokens.IndexOf("as");
        return at > 0 && at + 1 < tokens.Count && tokens[at + 1].StartsWith('|') ? tokens.GetRange(0, at) : tokens;
    }

    private static InvalidInputException UnknownHelper(string name) =>
        new("unknown_helper", $"content calls '{name}', which is not a helper (available: if, unless, each, with, lookup).", "content");

    private static void AddIfRoot(string token, int itemDepth, List<TemplateReference> names, bool iterated = false)
    {
        var equals = token.IndexOf('=');
        if (equals > 0 && token[0] is not ('"' or '\'' or '[')) token = token[(equals + 1)..]; // hash argument key=value
        if (token.Length == 0 || IsLiteral(token) || BuiltInHelpers.Contains(token)) return;

        if (token.StartsWith("@root.", StringComparison.Ordinal) || token.StartsWith("@root/", StringComparison.Ordinal))
        {
            AddName(token[6..], names, iterated);
            return;
        }
        if (token[0] == '@') return; // @index, @key, @first, @last

        var depth = itemDepth;
        while (token.StartsWith("../", StringComparison.Ordinal))
        {
            token = token[3..];
            depth = Math.Max(0, depth - 1);
        }
        if (token is "this" or ".")
        {
            if (depth == 0) throw InvalidTemplate("'{{this}}' is the current item, which exists only inside #each or #with; name the variable instead.");
            return;
        }
        if (token.StartsWith("this.", StringComparison.Ordinal) || token.StartsWith("this/", StringComparison.Ordinal)) token = token[5..];
        else if (token.StartsWith("./", StringComparison.Ordinal)) token = token[2..];
        if (depth == 0) AddName(token, names, iterated);
    }

    private static void AddName(string path, List<TemplateReference> names, bool iterated)
    {
        var root = path.Split('.', '/')[0].Trim('[', ']');
        if (root.Length == 0) return;
        // Iterating a member of the variable (#each order.items) says nothing about the variable's own type.
        names.Add(new TemplateReference(root, iterated && !path.Contains('.') && !path.Contains('/')));
    }

    private static InvalidInputException InvalidTemplate(string message) => new("invalid_template", $"content is not a valid template: {message}", "content");

    private static bool IsLiteral(string token) =>
        token[0] is '"' or '\'' || token is "true" or "false" or "null" or "undefined"
        || double.TryParse(token, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);
}

/// <summary>A top-level name a template reads; <see cref="Iterated"/> when it is the target of a <c>#each</c>.</summary>
internal sealed record TemplateReference(string Name, bool Iterated);
