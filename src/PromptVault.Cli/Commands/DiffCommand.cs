using System.Globalization;
using System.Text.Json;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary><c>diff NAME A B</c>: the unified diff of two versions' templates, then their variable, metadata and metric changes.</summary>
internal sealed class DiffCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string name, string a, string b, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var comparison = await client.CompareAsync(name, a, b, cancellationToken);
            return context.Print(remote.Json, comparison, () =>
            {
                WriteContent(comparison);
                WriteVariables(comparison);
                WriteMetadata(comparison);
                WriteMetrics(comparison);
            });
        }, cancellationToken);

    private void WriteContent(ComparisonResponse comparison)
    {
        if (string.IsNullOrWhiteSpace(comparison.UnifiedDiff) || comparison.ContentDiff is { Added.Count: 0, Removed.Count: 0 })
        {
            Line($"Template: no changes between {comparison.A} and {comparison.B}.", null);
            return;
        }
        foreach (var line in comparison.UnifiedDiff.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n'))
        {
            var color = line switch
            {
                _ when line.StartsWith("+++", StringComparison.Ordinal) || line.StartsWith("---", StringComparison.Ordinal) => "bold",
                _ when line.StartsWith("@@", StringComparison.Ordinal) => "cyan",
                _ when line.StartsWith('+') => "green",
                _ when line.StartsWith('-') => "red",
                _ => null,
            };
            Line(line, color);
        }
    }

    private void WriteVariables(ComparisonResponse comparison)
    {
        var diff = comparison.VariablesDiff;
        if (diff.Added.Count + diff.Removed.Count + diff.Changed.Count == 0) return;
        Line("", null);
        Line("Variables:", "bold");
        foreach (var added in diff.Added) Line($"  + {added}", "green");
        foreach (var removed in diff.Removed) Line($"  - {removed}", "red");
        foreach (var changed in diff.Changed) Line($"  ~ {changed.Name}: {string.Join("; ", Changes(changed.A, changed.B))}", "yellow");
    }

    private static IEnumerable<string> Changes(VariableDefinition a, VariableDefinition b)
    {
        if (a.Type != b.Type) yield return $"type {Names.Of(a.Type)} → {Names.Of(b.Type)}";
        if (a.Required != b.Required) yield return $"required {Bool(a.Required)} → {Bool(b.Required)}";
        if (a.Description != b.Description) yield return $"description {Show(a.Description)} → {Show(b.Description)}";
        var defaultA = a.DefaultValue?.GetRawText();
        var defaultB = b.DefaultValue?.GetRawText();
        if (defaultA != defaultB) yield return $"defaultValue {defaultA ?? "(none)"} → {defaultB ?? "(none)"}";
        if (a.Validation != b.Validation) yield return $"validation {Show(a.Validation)} → {Show(b.Validation)}";
    }

    private void WriteMetadata(ComparisonResponse comparison)
    {
        if (comparison.MetadataDiff.Count == 0) return;
        Line("", null);
        Line("Metadata:", "bold");
        foreach (var (field, change) in comparison.MetadataDiff.OrderBy(f => f.Key, StringComparer.Ordinal))
            Line($"  ~ {field}: {change.A ?? "(none)"} → {change.B ?? "(none)"}", "yellow");
    }

    private void WriteMetrics(ComparisonResponse comparison)
    {
        var recorded = comparison.MetricsDiff.Where(m => m.Value.A is not null || m.Value.B is not null).ToList();
        if (recorded.Count == 0) return;
        Line("", null);
        Line($"Metrics ({comparison.A} → {comparison.B}):", "bold");
        foreach (var (metric, diff) in recorded)
            Line($"  {metric}: {Number(diff.A)} → {Number(diff.B)} (diff {Number(diff.Diff)})", null);
    }

    /// <summary>Colour for people at a terminal; plain lines (never wrapped) when piped.</summary>
    private void Line(string text, string? color)
    {
        if (context.IsTerminal && color is not null)
            context.Console.MarkupLine($"[{color}]{Markup.Escape(text)}[/]");
        else if (context.IsTerminal)
            context.Console.WriteLine(text);
        else
            context.Out.WriteLine(text);
    }

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Show(string? text) => text is null ? "(none)" : JsonSerializer.Serialize(text, CliJson.Options);

    private static string Number(double? value) => value?.ToString("G6", CultureInfo.InvariantCulture) ?? "-";
}
