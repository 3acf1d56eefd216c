namespace PromptVault.Core.Templates;

/// <summary>
/// What one template and one render may cost (docs/api.md, "Limits"). The template limits are checked by
/// <see cref="TemplateParser"/> as it reads a template, in one pass that recurses no deeper than the nesting limit; the
/// render limits are checked while the output is written.
/// </summary>
public static class TemplateLimits
{
    /// <summary>Characters of template content, the template's size after partials (error <c>template_too_large</c>).</summary>
    public const int MaxSize = 200_000;

    /// <summary>Tags (<c>{{…}}</c>, comments included) in one template (error <c>template_too_large</c>).</summary>
    public const int MaxTags = 1_000;

    /// <summary>
    /// Blocks open inside one another, each <c>{{else if …}}</c> and each parenthesised sub-expression counting as one
    /// more level, as they do in the compiled template (error <c>template_too_deep</c>).
    /// </summary>
    public const int MaxNestingDepth = 32;

    /// <summary>
    /// Prompts included inside one another (<c>{{&gt; name}}</c>, SPEC §7): a chain a → b → c is two deep (error
    /// <c>template_too_deep</c>). Checked when a version is saved and again at each render, so no chain can exhaust the stack.
    /// </summary>
    public const int MaxIncludeDepth = 8;

    /// <summary>
    /// Arrays and objects nested in one another in a value a template writes whole (<c>{{items}}</c>): as deep as a JSON
    /// input may nest (<see cref="System.Text.Json.JsonDocumentOptions.MaxDepth"/>'s default), so a deeper .NET value, or a
    /// list that holds itself, is refused rather than taking the stack (error <c>invalid_variable</c>).
    /// </summary>
    public const int MaxValueDepth = 64;

    /// <summary>The refusal of a value that nests deeper than <see cref="MaxValueDepth"/>, the first array or object too deep being at <paramref name="field"/> (its first levels, then '…').</summary>
    internal static InvalidInputException ValueTooDeep(string field) => new("invalid_variable",
        $"'{field}' holds itself or nests arrays and objects more than {MaxValueDepth} deep; the value depth limit is {MaxValueDepth}.", field);

    /// <summary>Characters one render may write before white space is trimmed (error <c>render_too_large</c>).</summary>
    public const int MaxOutputLength = 1_000_000;

    /// <summary>How long one render may run (error <c>render_timeout</c>).</summary>
    public static readonly TimeSpan MaxRenderTime = TimeSpan.FromSeconds(1);
}
