using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PromptVault.Core.Prompts;

/// <summary>The limits and name rules every way in (API, CLI, SDK) is held to.</summary>
public static partial class PromptRules
{
    public const int MaxNameLength = 100;
    public const int MaxDescriptionLength = 2_000;
    public const int MaxChangeDescriptionLength = 2_000;
    public const int MaxVariables = 100;
    public const int MaxTags = 50;
    public const int MaxTagLength = 100;
    public const int MaxLabelLength = 64;
    public const int MaxPatternLength = 1_000;

    // The patterns end in \z, not $: $ also matches before a trailing newline, which would let "name\n" through.
    [GeneratedRegex(@"^[a-z0-9._/-]{1,100}\z")]
    private static partial Regex PromptNamePattern();

    // Its length is MaxLabelLength's to check, so the limit is stated once and named when it is broken.
    [GeneratedRegex(@"^[a-z0-9-]+\z")]
    private static partial Regex LabelPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,99}\z")]
    private static partial Regex VariableNamePattern();

    public static void ValidatePromptName(string? name, string field = "name")
    {
        if (string.IsNullOrEmpty(name))
            throw new InvalidInputException("invalid_name", $"{field} is required.", field);
        if (!PromptNamePattern().IsMatch(name))
            throw new InvalidInputException("invalid_name",
                $"{field} '{Shorten(name)}' is invalid: use 1–{MaxNameLength} characters of a-z, 0-9, '-', '_', '.' and '/'.", field);
        // URLs drop '.' and '..' path segments (RFC 3986 §5.2.4), so such a prompt could never be reached again.
        if (name.Split('/').Any(segment => segment is "." or ".."))
            throw new InvalidInputException("invalid_name",
                $"{field} '{Shorten(name)}' is invalid: '.' and '..' cannot be a name or a part of one between '/'.", field);
    }

    public static void ValidateLabel(string? label)
    {
        if (label is { Length: > MaxLabelLength })
            throw new InvalidInputException("invalid_label",
                $"label '{Shorten(label)}' is {label.Length:N0} characters long; the limit is {MaxLabelLength}.", "label");
        if (string.IsNullOrEmpty(label) || !LabelPattern().IsMatch(label))
            throw new InvalidInputException("invalid_label",
                $"label '{Shorten(label ?? "")}' is invalid: use 1–{MaxLabelLength} characters of a-z, 0-9 and '-'.", "label");
    }

    public static void ValidateDescription(string? description, string field = "description") =>
        ValidateLength(description, MaxDescriptionLength, field);

    public static void ValidateCategory(string? category, string field = "category")
    {
        ValidateLength(category, MaxTagLength, field);
        ValidateDisplayName(category, field);
    }

    /// <summary>
    /// The one rule for a display name that lists and the audit log show (a key's, an experiment's or a variant's, a test
    /// case's, a category or a tag): no control character (C0, DEL, C1) and no invisible format character (Unicode category
    /// Cf: bidi overrides and isolates, zero-width characters), which hide text or reorder how it reads (Trojan Source).
    /// Names with a pattern of their own (prompts, labels, variables) allow none of them already. The zero-width joiner and
    /// non-joiner (U+200D, U+200C) are allowed: they join an emoji sequence (👩‍💻) and shape words in Persian and Indic scripts,
    /// and reorder nothing.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>invalid_text</c>, naming <paramref name="field"/>, the character and its position.</exception>
    public static void ValidateDisplayName(string? name, string field)
    {
        const int ZeroWidthNonJoiner = 0x200C, ZeroWidthJoiner = 0x200D;
        if (name is null) return;
        var position = 0;
        foreach (var character in name.EnumerateRunes())
        {
            position++;
            var kind = Rune.GetUnicodeCategory(character) switch
            {
                UnicodeCategory.Control => "a control character",
                UnicodeCategory.Format when character.Value is not (ZeroWidthNonJoiner or ZeroWidthJoiner) => "an invisible format character",
                _ => null,
            };
            if (kind is not null)
                throw new InvalidInputException("invalid_text",
                    $"{field} holds U+{character.Value:X4}, {kind}, at character {position}: a name may not hold control or invisible format characters, which hide or reorder text where the name is shown.", field);
        }
    }

    /// <param name="changeDescription">Trimmed, as it is stored.</param>
    public static void ValidateChangeDescription([System.Diagnostics.CodeAnalysis.NotNull] string? changeDescription)
    {
        if (string.IsNullOrEmpty(changeDescription))
            throw new InvalidInputException("missing_change_description", "changeDescription is required and must not be empty.", "changeDescription");
        ValidateLength(changeDescription, MaxChangeDescriptionLength, "changeDescription");
    }

    public static bool IsValidVariableName(string name) => VariableNamePattern().IsMatch(name);

    public static void ValidateLength(string? value, int max, string field)
    {
        if (value is not null && value.Length > max)
            throw new InvalidInputException("too_long", $"{field} is {value.Length:N0} characters long; the limit is {max:N0}.", field);
    }

    public static void ValidateTags(IReadOnlyList<string>? tags, string field)
    {
        if (tags is null) return;
        if (tags.Count > MaxTags)
            throw new InvalidInputException("too_many", $"{field} has {tags.Count} entries; the limit is {MaxTags}.", field);
        for (var i = 0; i < tags.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(tags[i]))
                throw new InvalidInputException("invalid_tag", $"{field}[{i}] is empty.", $"{field}[{i}]");
            ValidateLength(tags[i], MaxTagLength, $"{field}[{i}]");
            ValidateDisplayName(tags[i], $"{field}[{i}]");
        }
    }

    /// <summary>
    /// A value cut to <paramref name="length"/> characters and '…' for a message. Never between the halves of a surrogate pair
    /// (an emoji): the lone half is written out as U+FFFD, and the message showed '�' where the value had an emoji.
    /// </summary>
    public static string Shorten(string value, int length = 60) =>
        value.Length <= length ? value : value[..(char.IsHighSurrogate(value[length - 1]) ? length - 1 : length)] + "…";

    /// <summary>
    /// What a caller named, for a message that says it was not found: <see cref="Shorten"/>ed, and each control character
    /// written as <c>\u0001</c>, which a terminal or a log would otherwise show as nothing or act on.
    /// </summary>
    public static string Echo(string value)
    {
        var shown = Shorten(value);
        if (!shown.Any(char.IsControl)) return shown;
        var visible = new System.Text.StringBuilder(shown.Length + 16);
        foreach (var c in shown)
        {
            if (char.IsControl(c)) visible.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else visible.Append(c);
        }
        return visible.ToString();
    }
}
