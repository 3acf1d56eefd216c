using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Prompts;

namespace PromptVault.Cli.PromptFiles;

/// <summary>
/// Writes a version as a prompt file that <see cref="PromptFileReader"/> reads back to the same content, declared variables and
/// metadata, so pushing a pulled file is "unchanged".
/// </summary>
internal static partial class PromptFileWriter
{
    // Text that YAML reads back as the same string, without quotes: starts with a letter, no ':', '#', quotes or brackets.
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_ .,;/()+=!?-]*$")]
    private static partial Regex PlainText();

    // A case's absent fields stay absent in the file.
    private static readonly JsonSerializerOptions TestOptions = new(PromptVaultJson.Options) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private static readonly string[] ReservedWords = ["true", "false", "null", "yes", "no", "on", "off", "y", "n"];

    /// <param name="tests">The version's test cases, written as a <c>tests:</c> block (one case a line, in YAML flow style).</param>
    public static string Write(PromptResponse prompt, VersionResponse version, IReadOnlyList<TestCase>? tests = null)
    {
        var yaml = new StringBuilder();
        yaml.Append("---\n");
        var labels = version.Labels.Count == 0 ? "" : $" ({string.Join(", ", version.Labels)})";
        yaml.Append(CultureInfo.InvariantCulture, $"# {prompt.Name} {version.Version}{labels}\n");
        yaml.Append(CultureInfo.InvariantCulture, $"name: {Text(prompt.Name)}\n");
        yaml.Append(CultureInfo.InvariantCulture, $"type: {Names.Of(prompt.Type)}\n");
        if (!string.IsNullOrEmpty(prompt.Description)) yaml.Append(CultureInfo.InvariantCulture, $"description: {Text(prompt.Description)}\n");
        if (prompt.Tags.Count > 0) yaml.Append(CultureInfo.InvariantCulture, $"tags: {List(prompt.Tags)}\n");
        if (prompt.Category is not null) yaml.Append(CultureInfo.InvariantCulture, $"category: {Text(prompt.Category)}\n");
        if (prompt.RequireApproval) yaml.Append("requireApproval: true\n");
        if (prompt.RequireTests) yaml.Append("requireTests: true\n");

        // What the version declared, not what its includes joined: a push of the file declares them again.
        if (version.Declared.Count > 0)
        {
            yaml.Append("variables:\n");
            foreach (var variable in version.Declared)
            {
                yaml.Append(CultureInfo.InvariantCulture, $"  - name: {Text(variable.Name)}\n");
                yaml.Append(CultureInfo.InvariantCulture, $"    type: {Names.Of(variable.Type)}\n");
                if (variable.Description is not null) yaml.Append(CultureInfo.InvariantCulture, $"    description: {Text(variable.Description)}\n");
                yaml.Append(CultureInfo.InvariantCulture, $"    required: {(variable.Required ? "true" : "false")}\n");
                if (variable.DefaultValue is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } value)
                    yaml.Append(CultureInfo.InvariantCulture, $"    defaultValue: {Flow(value)}\n");
                if (variable.Validation is not null) yaml.Append(CultureInfo.InvariantCulture, $"    validation: {Quoted(variable.Validation)}\n");
            }
        }

        var metadata = MetadataLines(version.Metadata);
        if (metadata.Count > 0)
        {
            yaml.Append("metadata:\n");
            foreach (var line in metadata) yaml.Append(CultureInfo.InvariantCulture, $"  {line}\n");
        }
        if (tests is { Count: > 0 })
        {
            yaml.Append("tests:\n");
            foreach (var test in tests)
                yaml.Append(CultureInfo.InvariantCulture, $"  - {Flow(JsonSerializer.SerializeToElement(test, TestOptions))}\n");
        }
        yaml.Append("---\n");

        if (version.Messages is not null)
            return yaml.Append(ChatMarkdown.Format(version.Messages)).ToString();
        // The reader drops one blank line after '---'; protect a template that starts with one.
        if (version.Content.StartsWith('\n') || version.Content.StartsWith("\r\n", StringComparison.Ordinal)) yaml.Append('\n');
        yaml.Append(version.Content);
        yaml.Append('\n');
        return yaml.ToString();
    }

    private static List<string> MetadataLines(PromptMetadata metadata)
    {
        var lines = new List<string>();
        if (metadata.Model is not null) lines.Add($"model: {Text(metadata.Model)}");
        if (metadata.Temperature is { } temperature) lines.Add($"temperature: {Number(temperature)}");
        if (metadata.MaxTokens is { } maxTokens) lines.Add($"maxTokens: {maxTokens.ToString(CultureInfo.InvariantCulture)}");
        if (metadata.TopP is { } topP) lines.Add($"topP: {Number(topP)}");
        if (metadata.FrequencyPenalty is { } frequency) lines.Add($"frequencyPenalty: {Number(frequency)}");
        if (metadata.PresencePenalty is { } presence) lines.Add($"presencePenalty: {Number(presence)}");
        if (metadata.Tags is not null) lines.Add($"tags: {List(metadata.Tags)}");
        if (metadata.Category is not null) lines.Add($"category: {Text(metadata.Category)}");
        if (metadata.Tools is not null) lines.AddRange(ToolLines(metadata.Tools));
        if (metadata.ResponseFormat is { } responseFormat) lines.Add($"responseFormat: {Flow(responseFormat)}");
        return lines;
    }

    /// <summary>Each tool as a YAML mapping; its schema in flow style (JSON-like), which reads back as the same JSON.</summary>
    private static IEnumerable<string> ToolLines(IReadOnlyList<ToolDefinition> tools)
    {
        if (tools.Count == 0)
        {
            yield return "tools: []";
            yield break;
        }
        yield return "tools:";
        foreach (var tool in tools)
        {
            yield return $"  - name: {Text(tool.Name)}";
            if (tool.Description is not null) yield return $"    description: {Text(tool.Description)}";
            if (tool.Parameters is { } parameters) yield return $"    parameters: {Flow(parameters)}";
        }
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string List(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(item => Text(item, inFlow: true))) + "]";

    /// <summary>A string as a YAML scalar: plain when that reads back as the same string everywhere, else double-quoted.</summary>
    private static string Text(string value, bool inFlow = false) =>
        PlainText().IsMatch(value) && !value.EndsWith(' ') && !(inFlow && value.Contains(','))
        && !ReservedWords.Contains(value, StringComparer.OrdinalIgnoreCase)
            ? value
            : Quoted(value);

    /// <summary>A JSON value in YAML flow style (strings always quoted so they stay strings inside arrays and objects).</summary>
    private static string Flow(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => Quoted(value.GetString()!),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Array => "[" + string.Join(", ", value.EnumerateArray().Select(Flow)) + "]",
        JsonValueKind.Object => value.EnumerateObject().Any()
            ? "{ " + string.Join(", ", value.EnumerateObject().Select(p => $"{Quoted(p.Name)}: {Flow(p.Value)}")) + " }"
            : "{}",
        _ => "null",
    };

    /// <summary>A YAML double-quoted scalar: backslash escapes for quotes, backslashes and control and line-break characters.</summary>
    private static string Quoted(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case < ' ' or '\u007F' or '\u0085' or '\u2028' or '\u2029' or '\uFEFF':
                    builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                    break;
                default: builder.Append(c); break;
            }
        }
        return builder.Append('"').ToString();
    }
}
