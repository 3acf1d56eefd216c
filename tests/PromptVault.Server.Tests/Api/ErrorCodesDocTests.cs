using System.Text.RegularExpressions;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// docs/api.md's error table names every problem <c>code</c> the HTTP API can answer, and no code it cannot. The codes are
/// string literals where each refusal is raised, so they are read from the source: the first argument of a
/// <c>PromptVaultException</c> (or a target-typed <c>new(...)</c> of one), a code beside a status code in a problem the
/// server writes itself, and a store trouble's code. MCP answers JSON-RPC errors (docs/mcp.md), so src/PromptVault.Server/Mcp
/// is left out; the SDK and CLI only read codes.
/// </summary>
public sealed partial class ErrorCodesDocTests
{
    private static readonly string[] CodeFolders =
        ["PromptVault.Core", "PromptVault.Services", "PromptVault.Server", "PromptVault.Storage", "PromptVault.Storage.Sqlite", "PromptVault.Storage.Postgres"];

    /// <summary>The codes the framework's own problems get from their status (<c>Problems.AddStatusCode</c>).</summary>
    private static readonly string[] FrameworkCodes = ["not_found", "method_not_allowed"];

    [Fact]
    public void EveryCodeTheServerAnswers_IsInTheErrorTable_AndEveryCodeThereIsAnswered()
    {
        var (answered, prefixes) = CodesInSource();
        var documented = DocumentedCodes();

        var missing = answered.Where(c => !documented.Contains(c)).Order().ToList();
        var stale = documented.Where(c => !answered.Contains(c) && !prefixes.Any(p => c.StartsWith(p, StringComparison.Ordinal))).Order().ToList();

        Assert.True(missing.Count == 0 && stale.Count == 0,
            $"docs/api.md's error table lacks: {string.Join(", ", missing)}; it names codes no source raises: {string.Join(", ", stale)}.");
    }

    private static (HashSet<string> Codes, List<string> Prefixes) CodesInSource()
    {
        var codes = new HashSet<string>(FrameworkCodes, StringComparer.Ordinal);
        var prefixes = new List<string>();
        var mcp = Path.Combine(RepositoryFiles.Root, "src", "PromptVault.Server", "Mcp") + Path.DirectorySeparatorChar;
        foreach (var folder in CodeFolders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryFiles.Root, "src", folder), "*.cs", SearchOption.AllDirectories))
            {
                if (file.StartsWith(mcp, StringComparison.Ordinal) || file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)) continue;
                var text = File.ReadAllText(file);
                foreach (Match match in Raised().Matches(text)) codes.Add(match.Groups["code"].Value);
                foreach (Match match in RaisedEither().Matches(text))
                {
                    codes.Add(match.Groups["a"].Value);
                    codes.Add(match.Groups["b"].Value);
                }
                foreach (Match match in Written().Matches(text)) codes.Add(match.Groups["code"].Value);
                foreach (Match match in RaisedWithAName().Matches(text)) prefixes.Add(match.Groups["prefix"].Value);
            }
        }
        return (codes, prefixes);
    }

    /// <summary>The backquoted codes in the last column of docs/api.md's error table (rows that start with a status).</summary>
    internal static HashSet<string> DocumentedCodes()
    {
        var codes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(RepositoryFiles.Docs("api.md")).Where(l => StatusRow().IsMatch(l)))
        {
            var columns = UnescapedBar().Split(line.Trim().Trim('|'));
            foreach (Match match in Code().Matches(columns[^1])) codes.Add(match.Groups[1].Value);
        }
        Assert.NotEmpty(codes);
        return codes;
    }

    // new InvalidInputException("code", …), a target-typed new("code", …) returned or thrown (a method returning an exception),
    // or the template parser's Refuse("code", …) or Refuse(template, place, "code", …), which add the error's place in the template.
    [GeneratedRegex("""(?:(?:Exception|(?:=>|\?\?|\?|:|throw|return)\s*new)\(|Refuse\([^;"]*?)\s*"(?<code>[a-z]+(?:_[a-z]+)*)"\s*,""")]
    private static partial Regex Raised();

    [GeneratedRegex("""Exception\(\s*[^;"()]*\?\s*"(?<a>[a-z_]+)"\s*:\s*"(?<b>[a-z_]+)"\s*,""")]
    private static partial Regex RaisedEither();

    // A problem written beside its status (Problems.WriteAsync, the exception handler's map), or a store trouble's ("code", message).
    [GeneratedRegex("""(?:StatusCode(?:s\.Status\w+)?\s*,\s*"(?<code>[a-z_]+)")|(?:Exception(?:\s+\w+)?\s*=>\s*\("(?<code>[a-z_]+)"\s*,)""")]
    private static partial Regex Written();

    // A code made from a prefix and a name: $"missing_{field}", $"invalid_{parameter}".
    [GeneratedRegex("""(?:Exception|(?:=>|\?\?|\?|:|throw|return)\s*new)\(\s*\$"(?<prefix>[a-z]+_)\{""")]
    private static partial Regex RaisedWithAName();

    [GeneratedRegex(@"^\|\s*\d{3}")]
    private static partial Regex StatusRow();

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex UnescapedBar();

    [GeneratedRegex(@"`([a-z]+(?:_[a-z]+)*)`")]
    private static partial Regex Code();
}
