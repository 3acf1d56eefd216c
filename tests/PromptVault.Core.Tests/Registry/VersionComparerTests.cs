using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Versioning;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Registry;

public sealed class VersionComparerTests
{
    private static readonly PromptVersion Old = Version("a", "You help {{company}}.\nBe polite.\nSign as Bot.",
        new VariableDefinition("company", Required: true), new VariableDefinition("tone")) with
    {
        Metadata = new PromptMetadata { Model = "gpt-4o", Temperature = 0.7, MaxTokens = 500 },
    };

    private static readonly PromptVersion New = Version("b", "You help {{company}}.\nBe concise and polite.\nSign as Bot.\nUse {{language}}.",
        new VariableDefinition("company", Required: true, Description: "the brand"), new VariableDefinition("language")) with
    {
        Version = new SemanticVersion(2, 0, 0),
        Metadata = new PromptMetadata { Model = "gpt-4o-mini", Temperature = 0.7, TopP = 0.9 },
    };

    [Fact]
    public void Compare_ChangedLine_UnifiedDiffHasRemovedAndAddedLines()
    {
        var comparison = VersionComparer.Compare("support", Old, New, new(), new());

        var lines = comparison.UnifiedDiff.Split('\n');
        Assert.Contains("-Be polite.", lines);
        Assert.Contains("+Be concise and polite.", lines);
        Assert.Contains("+Use {{language}}.", lines);
        Assert.Contains(" You help {{company}}.", lines);
    }

    [Fact]
    public void Compare_Headers_NameBothVersions()
    {
        var comparison = VersionComparer.Compare("support", Old, New, new(), new());

        Assert.Contains("--- support@1.0.0", comparison.UnifiedDiff, StringComparison.Ordinal);
        Assert.Contains("+++ support@2.0.0", comparison.UnifiedDiff, StringComparison.Ordinal);
        Assert.Equal("1.0.0", comparison.A);
        Assert.Equal("2.0.0", comparison.B);
        Assert.Equal("support", comparison.PromptName);
    }

    [Fact]
    public void Compare_ContentDiff_ListsAddedAndRemovedLines()
    {
        var comparison = VersionComparer.Compare("support", Old, New, new(), new());

        Assert.Equal(["Be concise and polite.", "Use {{language}}."], comparison.ContentDiff.Added);
        Assert.Equal(["Be polite."], comparison.ContentDiff.Removed);
    }

    [Fact]
    public void Compare_VariablesDiff_ListsAddedRemovedAndChanged()
    {
        var comparison = VersionComparer.Compare("support", Old, New, new(), new());

        Assert.Equal(["language"], comparison.VariablesDiff.Added);
        Assert.Equal(["tone"], comparison.VariablesDiff.Removed);
        var changed = Assert.Single(comparison.VariablesDiff.Changed);
        Assert.Equal("company", changed.Name);
        Assert.Null(changed.A.Description);
        Assert.Equal("the brand", changed.B.Description);
    }

    [Fact]
    public void Compare_MetadataDiff_ListsOnlyChangedFields()
    {
        var comparison = VersionComparer.Compare("support", Old, New, new(), new());

        Assert.Equal(["maxTokens", "model", "topP"], comparison.MetadataDiff.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("\"gpt-4o\"", comparison.MetadataDiff["model"].A);
        Assert.Equal("\"gpt-4o-mini\"", comparison.MetadataDiff["model"].B);
        Assert.Equal("500", comparison.MetadataDiff["maxTokens"].A);
        Assert.Null(comparison.MetadataDiff["maxTokens"].B);
        Assert.Null(comparison.MetadataDiff["topP"].A);
        Assert.Equal("0.9", comparison.MetadataDiff["topP"].B);
    }

    [Fact]
    public void Compare_SameVersion_HasNoDifferences()
    {
        var comparison = VersionComparer.Compare("support", Old, Old, new(), new());

        Assert.Empty(comparison.ContentDiff.Added);
        Assert.Empty(comparison.ContentDiff.Removed);
        Assert.Empty(comparison.VariablesDiff.Added);
        Assert.Empty(comparison.VariablesDiff.Removed);
        Assert.Empty(comparison.VariablesDiff.Changed);
        Assert.Empty(comparison.MetadataDiff);
        Assert.DoesNotContain("\n-", comparison.UnifiedDiff, StringComparison.Ordinal);
        Assert.DoesNotContain("\n+Be", comparison.UnifiedDiff, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_MetricsDiff_ComparesTheVersionsAggregates()
    {
        var a = new MetricAggregate();
        a.Add(Event(latencyMs: 100, cost: 0.002, error: "timeout"));
        a.Add(Event(latencyMs: 300, cost: 0.004, error: null));
        var b = new MetricAggregate();
        b.Add(Event(latencyMs: 150, cost: null, error: null));

        var diff = VersionComparer.Compare("support", Old, New, a, b).MetricsDiff;

        Assert.Equal(new MetricDiff(200, 150, -50), diff["latencyMs"]);
        Assert.Equal(0.003, diff["cost"].A!.Value, 12);
        Assert.Null(diff["cost"].B);
        Assert.Null(diff["cost"].Diff);
        Assert.Equal(new MetricDiff(0.5, 0, -0.5), diff["errorRate"]);
        Assert.Equal(new MetricDiff(null, null, null), diff["qualityScore"]);
    }

    private static MetricEvent Event(double latencyMs, double? cost, string? error) =>
        new(null, "v", null, null, null, DateTimeOffset.UnixEpoch, latencyMs, null, null, cost, null, null, null, error, null);

    [Fact]
    public void Compare_MetricsDiff_HasEveryMetric()
    {
        var comparison = VersionComparer.Compare("support", Old, New, new(), new());

        Assert.Equal(["cost", "errorRate", "latencyMs", "qualityScore"], comparison.MetricsDiff.Keys.Order(StringComparer.Ordinal));
    }

    private static PromptVersion Lines(string id, params IEnumerable<string>[] parts) => Version(id, string.Join("\n", parts.SelectMany(p => p)));

    private static IEnumerable<string> Numbered(string prefix, int count) => Enumerable.Range(0, count).Select(i => $"{prefix}{i}");

    [Fact]
    public void Compare_ChangesBetweenLongCommonEnds_FoundExactlyWithTheirLineNumbers()
    {
        var a = Lines("a", Numbered("same", 3_000), ["x", "keep", "y"], Numbered("tail", 3_000));
        var b = Lines("b", Numbered("same", 3_000), ["X", "keep", "Y"], Numbered("tail", 3_000));

        var comparison = VersionComparer.Compare("long", a, b, new(), new());

        Assert.Equal(["X", "Y"], comparison.ContentDiff.Added);
        Assert.Equal(["x", "y"], comparison.ContentDiff.Removed);
        Assert.Contains("@@ -2998,9 +2998,9 @@", comparison.UnifiedDiff, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_LargeWhollyDifferentVersions_DiffsTheMiddleAsOneReplacement()
    {
        // 25,000 lines each, no line shared: the shortest diff would take DiffPlex seconds.
        var a = Lines("a", ["first"], Numbered("old", 25_000), ["last"]);
        var b = Lines("b", ["first"], Numbered("new", 25_000), ["last"]);

        var comparison = VersionComparer.Compare("big", a, b, new(), new());

        Assert.Equal(Numbered("new", 25_000), comparison.ContentDiff.Added);
        Assert.Equal(Numbered("old", 25_000), comparison.ContentDiff.Removed);
        Assert.StartsWith(" first", comparison.UnifiedDiff.Split('\n').First(l => l.StartsWith(' ')), StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_Tools_MetadataDiffNamesEachToolAddedRemovedOrChanged()
    {
        ToolDefinition Tool(string name, string parameters) => new(name, null, Json(parameters));
        var a = Old with { Metadata = Old.Metadata with { Tools = [Tool("search", """{"type":"object"}"""), Tool("refund", """{"type":"object"}""")] } };
        var b = Old with
        {
            Metadata = Old.Metadata with
            {
                Tools = [Tool("search", """{"type":"object","properties":{"q":{"type":"string"}}}"""), Tool("escalate", """{"type":"object"}""")],
                ResponseFormat = Json("""{"type":"object"}"""),
            },
        };

        var diff = VersionComparer.Compare("support", a, b, new(), new()).MetadataDiff;

        Assert.Equal(["responseFormat", "tools.escalate", "tools.refund", "tools.search"], diff.Keys.Order(StringComparer.Ordinal));
        Assert.Null(diff["tools.escalate"].A);
        Assert.Contains("\"escalate\"", diff["tools.escalate"].B, StringComparison.Ordinal);
        Assert.Null(diff["tools.refund"].B);
        Assert.Contains("\"q\"", diff["tools.search"].B, StringComparison.Ordinal);
        Assert.DoesNotContain("\"q\"", diff["tools.search"].A, StringComparison.Ordinal);
        Assert.Null(diff["responseFormat"].A);
    }
}
