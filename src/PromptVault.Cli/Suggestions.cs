namespace PromptVault.Cli;

/// <summary>The CLI's one rule for "did you mean": the closest name within two edits.</summary>
internal static class Suggestions
{
    private const int MaxEdits = 2;

    /// <summary>The name of <paramref name="names"/> fewest edits from <paramref name="word"/> (the first by ordinal order on a tie), if two or fewer; else null.</summary>
    public static string? Closest(string word, IEnumerable<string> names) =>
        names.Select(name => (Name: name, Distance: EditDistance(word, name))).Where(d => d.Distance <= MaxEdits)
            .OrderBy(d => d.Distance).ThenBy(d => d.Name, StringComparer.Ordinal).Select(d => d.Name).FirstOrDefault();

    /// <summary>The Levenshtein distance: the fewest single-character insertions, deletions and substitutions from <paramref name="a"/> to <paramref name="b"/>.</summary>
    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }
}
