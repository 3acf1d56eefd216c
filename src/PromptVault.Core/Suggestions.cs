namespace PromptVault.Core;

/// <summary>The one rule for "did you mean" (the CLI's commands, options and variables; the server's settings): the closest name within two edits.</summary>
public static class Suggestions
{
    private const int MaxEdits = 2;

    /// <summary>The name of <paramref name="names"/> fewest edits from <paramref name="word"/> (the first by ordinal order on a tie), if two or fewer; else null.</summary>
    /// <param name="ignoreCase">Whether a letter in another case is no edit (configuration keys, which are read in any case).</param>
    public static string? Closest(string word, IEnumerable<string> names, bool ignoreCase = false) =>
        names.Select(name => (Name: name, Distance: EditDistance(word, name, ignoreCase))).Where(d => d.Distance <= MaxEdits)
            .OrderBy(d => d.Distance).ThenBy(d => d.Name, StringComparer.Ordinal).Select(d => d.Name).FirstOrDefault();

    /// <summary>The Levenshtein distance: the fewest single-character insertions, deletions and substitutions from <paramref name="a"/> to <paramref name="b"/>.</summary>
    private static int EditDistance(string a, string b, bool ignoreCase)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (Same(a[i - 1], b[j - 1], ignoreCase) ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }

    private static bool Same(char a, char b, bool ignoreCase) => a == b || (ignoreCase && char.ToUpperInvariant(a) == char.ToUpperInvariant(b));
}
