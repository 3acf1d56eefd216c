using System.Text.RegularExpressions;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;

namespace PromptVault.Core.Evaluations;

/// <summary>
/// The checks that read text (SPEC §10): <c>contains</c>, <c>notContains</c>, <c>regex</c>, <c>equals</c> and <c>maxLength</c>,
/// the same for a render and a model's answer. Comparisons are ordinal; a regex runs on the non-backtracking engine (linear
/// time) with a time limit.
/// </summary>
public static class TextChecks
{
    /// <summary>How long a <c>regex</c> check may run on one text. Longer than a render's validation limit: an evaluation is not on
    /// the hot path, answers can be long, and the engine's first match on a loaded machine builds its automaton slowly.</summary>
    public static readonly TimeSpan PatternTimeLimit = TimeSpan.FromSeconds(1);

    private const int ExcerptLength = 80;

    /// <summary>Runs one validated check (see <see cref="TestCaseRules"/>) on <paramref name="text"/>.</summary>
    /// <param name="what">What the text is, for the reason: <c>render</c> or <c>output</c>.</param>
    public static CheckResult Run(TestExpectation check, string text, string what)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(text);
        var type = check.Type!;
        if (type == CheckTypes.MaxLength)
        {
            var max = check.Value!.Value.GetInt32();
            return text.Length <= max
                ? new(type, true, $"{what} is {text.Length} characters, at most {max}")
                : new(type, false, $"{what} is {text.Length} characters, more than {max}");
        }

        var value = check.Value!.Value.GetString()!;
        return type switch
        {
            CheckTypes.Contains => text.Contains(value, StringComparison.Ordinal)
                ? new(type, true, $"{what} contains '{Excerpt(value)}'")
                : new(type, false, $"{what} does not contain '{Excerpt(value)}': {what} is '{Excerpt(text)}'"),
            CheckTypes.NotContains => text.IndexOf(value, StringComparison.Ordinal) is var at and >= 0
                ? new(type, false, $"{what} contains '{Excerpt(value)}' at character {at}: '…{Excerpt(text[at..])}'")
                : new(type, true, $"{what} does not contain '{Excerpt(value)}'"),
            CheckTypes.EqualsText => text == value
                ? new(type, true, $"{what} equals the expected text")
                : new(type, false, $"{what} differs from the expected text at character {FirstDifference(text, value)}: " +
                    $"expected '{Excerpt(value)}', got '{Excerpt(text)}'"),
            CheckTypes.Regex => Match(type, value, text, what),
            _ => throw new ArgumentException($"{type} is not a text check.", nameof(check)),
        };
    }

    private static CheckResult Match(string type, string pattern, string text, string what)
    {
        var regex = VariableContract.CompilePattern(pattern, "invalid_test", $"regex '{Excerpt(pattern)}'", "value", PatternTimeLimit);
        try
        {
            return regex.IsMatch(text)
                ? new(type, true, $"{what} matches /{Excerpt(pattern)}/")
                : new(type, false, $"{what} does not match /{Excerpt(pattern)}/: {what} is '{Excerpt(text)}'");
        }
        catch (RegexMatchTimeoutException)
        {
            return new(type, false, $"/{Excerpt(pattern)}/ did not finish within {PatternTimeLimit.TotalMilliseconds:0} ms on the {what}");
        }
    }

    private static int FirstDifference(string a, string b)
    {
        var i = 0;
        while (i < a.Length && i < b.Length && a[i] == b[i]) i++;
        return i;
    }

    private static string Excerpt(string text) => PromptRules.Shorten(text, ExcerptLength).ReplaceLineEndings("⏎");
}
