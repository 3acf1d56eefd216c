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

    public static Dictionary<string, JsonElement> Inputs()
    {
        var messages = Enumerable.Range(1, 10).Select(i => new { role = i % 2 == 1 ? "user" : "assistant", content = $"Message number {i} about order #{1000 + i}." });
        return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(new
        {
            company_name = "Acme",
            customer_name = "Ana",
            previous_messages = messages,
        }))!;
    }
}
