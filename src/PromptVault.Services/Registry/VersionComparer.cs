using System.Text.Json;
using DiffPlex;
using DiffPlex.Chunkers;
using DiffPlex.Model;
using DiffPlex.Renderer;
using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Registry;

/// <summary>Compares two versions of a prompt (SPEC §1): a unified line diff with DiffPlex, and the contract and metadata changes.</summary>
public static class VersionComparer
{
    /// <summary>
    /// Differing lines (between the common first and last lines) up to which the diff is the shortest one. DiffPlex's
    /// Myers diff takes time in proportion to lines × differences: two wholly different versions of 25,000 lines took
    /// 5 s. Past this, the differing middle is shown as replaced as a whole, which is still a correct diff.
    /// </summary>
    internal const int MaxExactDiffLines = 4_000;

    /// <param name="metricsA">Version a's all-time metric aggregate (empty when it has none); likewise <paramref name="metricsB"/>.</param>
    public static ComparisonResponse Compare(string promptName, PromptVersion a, PromptVersion b, MetricAggregate metricsA, MetricAggregate metricsB)
    {
        var diff = LineDiff(TextOf(a), TextOf(b));
        var added = diff.DiffBlocks.SelectMany(block => diff.PiecesNew.Skip(block.InsertStartB).Take(block.InsertCountB)).ToList();
        var removed = diff.DiffBlocks.SelectMany(block => diff.PiecesOld.Skip(block.DeleteStartA).Take(block.DeleteCountA)).ToList();
        var unified = new UnidiffRenderer().Generate(diff, $"{promptName}@{a.Version}", $"{promptName}@{b.Version}");

        return new ComparisonResponse(
            promptName,
            a.Version.ToString(),
            b.Version.ToString(),
            unified,
            new ContentDiff(added, removed),
            CompareVariables(a.Variables, b.Variables),
            CompareMetadata(a.Metadata, b.Metadata),
            CompareMetrics(VersionMetricsBuilder.Summarize(metricsA), VersionMetricsBuilder.Summarize(metricsB)))
        {
            MessagesDiff = a.Messages is null || b.Messages is null ? null : CompareMessages(promptName, a, b),
        };
    }

    /// <summary>What the line diff reads: the template, or a chat prompt's messages in their text form.</summary>
    private static string TextOf(PromptVersion version) => version.Messages is null ? version.Content : ChatMarkdown.Format(version.Messages);

    private static MessagesDiff CompareMessages(string promptName, PromptVersion versionA, PromptVersion versionB)
    {
        var a = versionA.Messages!;
        var b = versionB.Messages!;
        var added = new List<MessageEntry>();
        var removed = new List<MessageEntry>();
        var changed = new List<MessageChange>();
        var (i, j) = (0, 0);
        foreach (var (matchA, matchB) in CommonMessages(a, b).Append((a.Count, b.Count)))
        {
            for (; i < matchA && j < matchB; i++, j++)
            {
                var diff = new UnidiffRenderer().Generate(LineDiff(a[i].Content, b[j].Content),
                    $"{promptName}@{versionA.Version} messages[{i}]", $"{promptName}@{versionB.Version} messages[{j}]");
                changed.Add(new MessageChange(i, j, a[i].Role, b[j].Role, a[i].Content == b[j].Content ? "" : diff));
            }
            for (; i < matchA; i++) removed.Add(new MessageEntry(i, a[i].Role, a[i].Content));
            for (; j < matchB; j++) added.Add(new MessageEntry(j, b[j].Role, b[j].Content));
            (i, j) = (matchA + 1, matchB + 1);
        }
        return new MessagesDiff(added, removed, changed);
    }

    /// <summary>The positions of equal messages in a and b, in order: a longest common subsequence (chat prompts hold at most
    /// <see cref="Core.Templates.CompiledChat.MaxMessages"/> messages, so the quadratic table is small).</summary>
    private static List<(int A, int B)> CommonMessages(IReadOnlyList<PromptMessage> a, IReadOnlyList<PromptMessage> b)
    {
        var length = new int[a.Count + 1, b.Count + 1];
        for (var i = a.Count - 1; i >= 0; i--)
            for (var j = b.Count - 1; j >= 0; j--)
                length[i, j] = a[i] == b[j] ? length[i + 1, j + 1] + 1 : Math.Max(length[i + 1, j], length[i, j + 1]);
        var common = new List<(int, int)>();
        for (int i = 0, j = 0; i < a.Count && j < b.Count;)
        {
            if (a[i] == b[j]) common.Add((i++, j++));
            else if (length[i + 1, j] >= length[i, j + 1]) i++;
            else j++;
        }
        return common;
    }

    private static DiffResult LineDiff(string a, string b)
    {
        var chunker = new LineChunker();
        var before = chunker.Chunk(a).ToArray();
        var after = chunker.Chunk(b).ToArray();
        var prefix = 0;
        while (prefix < before.Length && prefix < after.Length && before[prefix] == after[prefix]) prefix++;
        var suffix = 0;
        while (suffix < before.Length - prefix && suffix < after.Length - prefix && before[^(suffix + 1)] == after[^(suffix + 1)]) suffix++;
        var removed = before.Length - prefix - suffix;
        var added = after.Length - prefix - suffix;
        if (removed + added == 0) return new DiffResult(before, after, []);
        // Lines only added or only removed, or too many to diff: one block is the answer (the shortest in the first cases).
        if (removed == 0 || added == 0 || removed + added > MaxExactDiffLines)
            return new DiffResult(before, after, [new DiffBlock(prefix, removed, prefix, added)]);

        // Diff only the middle, so the cost follows the differing lines, not the whole prompt.
        var middle = Differ.Instance.CreateDiffs(
            string.Join('\n', before, prefix, removed), string.Join('\n', after, prefix, added), ignoreWhiteSpace: false, ignoreCase: false, chunker);
        var blocks = middle.DiffBlocks.Select(block => new DiffBlock(block.DeleteStartA + prefix, block.DeleteCountA, block.InsertStartB + prefix, block.InsertCountB));
        return new DiffResult(before, after, blocks.ToList());
    }

    /// <summary>Mean latency, mean cost, mean quality score and error rate of each version, and b − a; null where a version has no data.</summary>
    private static Dictionary<string, MetricDiff> CompareMetrics(MetricsSummary a, MetricsSummary b)
    {
        static MetricDiff Diff(double? x, double? y) => new(x, y, x is { } first && y is { } second ? second - first : null);
        return new Dictionary<string, MetricDiff>
        {
            ["latencyMs"] = Diff(a.LatencyMs.Mean, b.LatencyMs.Mean),
            ["cost"] = Diff(a.Cost.Mean, b.Cost.Mean),
            ["qualityScore"] = Diff(a.QualityScore.Mean, b.QualityScore.Mean),
            ["errorRate"] = Diff(a.ErrorRate, b.ErrorRate),
        };
    }

    private static VariablesDiff CompareVariables(IReadOnlyList<VariableDefinition> a, IReadOnlyList<VariableDefinition> b)
    {
        var before = a.ToDictionary(v => v.Name);
        var after = b.ToDictionary(v => v.Name);
        return new VariablesDiff(
            b.Where(v => !before.ContainsKey(v.Name)).Select(v => v.Name).ToList(),
            a.Where(v => !after.ContainsKey(v.Name)).Select(v => v.Name).ToList(),
            b.Where(v => before.TryGetValue(v.Name, out var old) && Canonical.Json(old) != Canonical.Json(v))
                .Select(v => new VariableChange(v.Name, before[v.Name], v))
                .ToList());
    }

    private static Dictionary<string, FieldChange> CompareMetadata(PromptMetadata a, PromptMetadata b)
    {
        var before = Fields(a);
        var after = Fields(b);
        return before.Keys.Union(after.Keys)
            .Select(key => (key, a: before.GetValueOrDefault(key), b: after.GetValueOrDefault(key)))
            .Where(field => field.a != field.b)
            .ToDictionary(field => field.key, field => new FieldChange(field.a, field.b));
    }

    /// <summary>Each set field's JSON; tools one by one (<c>tools.search</c>), so a comparison names the tool added, removed or changed.</summary>
    private static Dictionary<string, string> Fields(PromptMetadata metadata)
    {
        using var document = JsonDocument.Parse(Canonical.Json(metadata));
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in document.RootElement.EnumerateObject().Where(p => p.Value.ValueKind != JsonValueKind.Null))
        {
            if (field.NameEquals("tools") && field.Value.GetArrayLength() > 0)
            {
                foreach (var tool in field.Value.EnumerateArray())
                    fields[$"tools.{tool.GetProperty("name").GetString()}"] = tool.GetRawText();
            }
            else
            {
                fields[field.Name] = field.Value.GetRawText();
            }
        }
        return fields;
    }
}
