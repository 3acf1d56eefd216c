using PromptVault.Core.Prompts;
using PromptVault.Core.Versioning;

namespace PromptVault.Core.Templates;

/// <summary>
/// Another prompt a template includes (SPEC §7): <c>{{&gt; name}}</c> (its <c>production</c> label), <c>{{&gt; name@label}}</c>
/// or <c>{{&gt; name@1.2.0}}</c>. The one place that reads and writes this syntax.
/// </summary>
/// <param name="Name">The included prompt's name.</param>
/// <param name="Label">The label it follows; null when <paramref name="Version"/> pins a version.</param>
/// <param name="Version">The version it pins; null when it follows <paramref name="Label"/>.</param>
public sealed record PromptReference(string Name, string? Label, SemanticVersion? Version)
{
    /// <summary>Reads the text after <c>&gt;</c> in a tag: <c>name</c>, <c>name@label</c> or <c>name@1.2.0</c>.</summary>
    /// <exception cref="InvalidInputException">The text is not a prompt name, optionally followed by <c>@</c> and a label or version.</exception>
    public static PromptReference Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.IndexOf('@', StringComparison.Ordinal);
        var name = at < 0 ? text : text[..at];
        var selector = at < 0 ? null : text[(at + 1)..];
        try
        {
            PromptRules.ValidatePromptName(name, "content");
            if (selector is null) return new PromptReference(name, Prompts.Label.Production, null);
            if (SemanticVersion.TryParse(selector, out var version)) return new PromptReference(name, null, version);
            PromptRules.ValidateLabel(selector);
            return new PromptReference(name, selector, null);
        }
        catch (InvalidInputException)
        {
            throw new InvalidInputException("invalid_reference",
                $"content includes '{{{{> {PromptRules.Shorten(text)}}}}}', which is not a prompt reference: write {{{{> name}}}}, {{{{> name@label}}}} or {{{{> name@1.2.0}}}} with a prompt name of a-z, 0-9, '-', '_', '.' and '/'.",
                "content");
        }
    }

    /// <summary>What follows the <c>@</c>: the version or the label.</summary>
    public string Selector => Version?.ToString() ?? Label!;

    /// <summary>The reference as a tag: <c>{{&gt; name@selector}}</c>.</summary>
    public override string ToString() => $"{{{{> {Name}@{Selector}}}}}";
}

/// <summary>The version a <see cref="PromptReference"/> resolved to (a render response's <c>references</c>).</summary>
/// <param name="Name">The included prompt's name.</param>
/// <param name="Version">The version's number, e.g. <c>1.2.0</c>.</param>
/// <param name="VersionId">The version's id.</param>
public sealed record ReferencedVersion(string Name, string Version, string VersionId);
