using System.Text.Json;
using System.Text.RegularExpressions;

namespace PromptVault.Core.Prompts;

/// <summary>
/// The ranges model settings may take, and the shape of tools and response formats (those the common providers accept).
/// Whether each schema is a valid JSON Schema is checked by the server when a version is saved (ToolSchemaRules), as the
/// meta-schema validator stays out of this package, which the client SDK depends on.
/// </summary>
public static partial class MetadataRules
{
    /// <summary>The most tools a version may offer (OpenAI's limit per request).</summary>
    public const int MaxTools = 128;

    /// <summary>The fewest tokens <c>metadata.maxTokens</c> may ask for.</summary>
    public const int MinMaxTokens = 1;

    // The ranges OpenAI's chat API takes (Anthropic's temperature and top P lie within them).
    public const double MinTemperature = 0, MaxTemperature = 2;
    public const double MinTopP = 0, MaxTopP = 1;
    public const double MinPenalty = -2, MaxPenalty = 2;

    // OpenAI's and Anthropic's rule for function names; \z, not $, so "name\n" is refused.
    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z")]
    private static partial Regex ToolNamePattern();

    public static void Validate(PromptMetadata metadata)
    {
        PromptRules.ValidateLength(metadata.Model, PromptRules.MaxNameLength, "metadata.model");
        InRange(metadata.Temperature, MinTemperature, MaxTemperature, "metadata.temperature");
        InRange(metadata.TopP, MinTopP, MaxTopP, "metadata.topP");
        InRange(metadata.FrequencyPenalty, MinPenalty, MaxPenalty, "metadata.frequencyPenalty");
        InRange(metadata.PresencePenalty, MinPenalty, MaxPenalty, "metadata.presencePenalty");
        if (metadata.MaxTokens < MinMaxTokens)
            throw new InvalidInputException("out_of_range", $"metadata.maxTokens must be a positive whole number, not {metadata.MaxTokens}.", "metadata.maxTokens");
        PromptRules.ValidateTags(metadata.Tags, "metadata.tags");
        PromptRules.ValidateCategory(metadata.Category, "metadata.category");
        ValidateTools(metadata.Tools);
        if (metadata.ResponseFormat is { } responseFormat)
            SchemaObject(responseFormat, "metadata.responseFormat", "the JSON schema the answer must follow");
    }

    private static void ValidateTools(IReadOnlyList<ToolDefinition>? tools)
    {
        if (tools is null) return;
        if (tools.Count > MaxTools)
            throw new InvalidInputException("too_many", $"metadata.tools has {tools.Count} entries; the limit is {MaxTools}.", "metadata.tools");
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tools.Count; i++)
        {
            var field = $"metadata.tools[{i}]";
            var tool = tools[i] ?? throw new InvalidInputException("invalid_tool", $"{field} is null; a tool is {{ name, description, parameters }}.", field);
            if (string.IsNullOrEmpty(tool.Name) || !ToolNamePattern().IsMatch(tool.Name))
                throw new InvalidInputException("invalid_tool_name",
                    $"{field}.name '{PromptRules.Shorten(tool.Name ?? "")}' is not a valid function name: use 1–64 characters of a-z, A-Z, 0-9, '_' and '-'.", $"{field}.name");
            if (!names.Add(tool.Name))
                throw new InvalidInputException("duplicate_tool", $"{field}.name: tool '{tool.Name}' is declared twice; tool names must be unique.", $"{field}.name");
            PromptRules.ValidateDescription(tool.Description, $"{field}.description");
            var parameters = tool.Parameters
                ?? throw new InvalidInputException("invalid_schema",
                    $"{field}.parameters (tool '{tool.Name}') is required: a JSON schema of its arguments, e.g. {{ \"type\": \"object\", \"properties\": {{}} }}.",
                    $"{field}.parameters");
            SchemaObject(parameters, $"{field}.parameters", $"tool '{tool.Name}'");
            // Providers pass arguments as one JSON object, so the schema must describe one.
            if (!parameters.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "object")
                throw new InvalidInputException("invalid_schema",
                    $"{field}.parameters (tool '{tool.Name}') must have \"type\": \"object\": a tool's arguments are one JSON object.", $"{field}.parameters");
        }
    }

    private static void SchemaObject(JsonElement schema, string field, string what)
    {
        if (schema.ValueKind != JsonValueKind.Object)
            throw new InvalidInputException("invalid_schema", $"{field} ({what}) must be a JSON schema object, not {Kind(schema.ValueKind)}.", field);
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static void InRange(double? value, double min, double max, string field)
    {
        if (value is { } v && (!double.IsFinite(v) || v < min || v > max))
            throw new InvalidInputException("out_of_range", $"{field} must be between {min} and {max}, not {v}.", field);
    }
}
