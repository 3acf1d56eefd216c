using System.Text.Json;
using PromptVault.Core.Prompts;
using PromptVault.Core.Versioning;

namespace PromptVault.Benchmarks;

/// <summary>The customer-support template and inputs with 10 previous messages, shared by the render and resolve benchmarks.</summary>
internal static class CustomerSupportPrompt
{
    private const string Template = """
        You are a helpful customer support agent for {{company_name}}.
        {{#if customer_name}}The customer's name is {{customer_name}}.{{/if}}
        Previous messages:
        {{#each previous_messages}}{{role}}: {{content}}
        {{/each}}
        """;

    private static readonly VariableDefinition[] Variables =
    [
        new("company_name", VariableType.String, Required: true),
        new("customer_name", VariableType.String),
        new("previous_messages", VariableType.Array),
    ];

    /// <summary>A production version of the template; <paramref name="preamble"/> lets versions of an experiment differ.</summary>
    public static PromptVersion Version(string id, string preamble = "") =>
        new(id, "p1", 1, SemanticVersion.Initial, preamble + Template, Variables, PromptMetadata.Empty,
            "Initial version", "bench", DateTimeOffset.UnixEpoch, VersionStatus.Production);

    /// <summary>The inputs as JSON, as the HTTP path receives them.</summary>
    public static Dictionary<string, JsonElement> Inputs()
    {
        var messages = Enumerable.Range(1, 10).Select(i => new { role = Role(i), content = Content(i) });
        return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(new
        {
            company_name = "Acme",
            customer_name = "Ana",
            previous_messages = messages,
        }))!;
    }

    /// <summary>The same inputs as .NET values, as an in-process caller holds them.</summary>
    public static Dictionary<string, object?> Values() => new(StringComparer.Ordinal)
    {
        ["company_name"] = "Acme",
        ["customer_name"] = "Ana",
        ["previous_messages"] = Enumerable.Range(1, 10)
            .Select(object? (i) => new Dictionary<string, object?>(StringComparer.Ordinal) { ["role"] = Role(i), ["content"] = Content(i) })
            .ToList(),
    };

    private static string Role(int i) => i % 2 == 1 ? "user" : "assistant";

    private static string Content(int i) => $"Message number {i} about order #{1000 + i}.";
}
