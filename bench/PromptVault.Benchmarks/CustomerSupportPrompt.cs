using System.Text.Json;
using PromptVault.Core.Prompts;
using PromptVault.Core.Versioning;

namespace PromptVault.Benchmarks;

/// <summary>
/// The customer-support template and inputs with 10 previous messages, shared by the render and resolve benchmarks:
/// the reference's Example 1 control template and the inputs its harness renders (../shared/seed-bench, run.mjs
/// section b), so both sides render the same text. The Core tests compile this file too, so the template has one copy.
/// </summary>
internal static class CustomerSupportPrompt
{
    internal const string Template = """
        You are a customer support agent for {{company_name}}.

        {{#if customer_name}}
        The customer's name is {{customer_name}}. Address them by name.
        {{/if}}

        Your responses should be:
        - Professional and empathetic
        - Solution-oriented
        - Concise but complete

        Previous context:
        {{#each previous_messages}}
        {{role}}: {{content}}
        {{/each}}
        """;

    private static readonly string[] MessageTexts =
    [
        "Hi, my order #10423 arrived yesterday but the kettle lid is cracked.",
        "I am sorry to hear that. Could you share a photo of the damage?",
        "Sure, I have uploaded two photos to the ticket just now.",
        "Thank you. I can see the crack. Would you prefer a replacement or a refund?",
        "A replacement please, same colour if possible.",
        "Of course. The replacement ships within 2 business days.",
        "Great. Do I need to send the broken one back?",
        "No need, you can recycle it. I have emailed you a prepaid label anyway.",
        "Perfect, thanks. Will I get a tracking number?",
        "Yes, it will be emailed as soon as the parcel leaves our warehouse.",
    ];

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
        var messages = Enumerable.Range(0, 10).Select(i => new { role = Role(i), content = MessageTexts[i] });
        return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(new
        {
            company_name = "Acme Corp",
            customer_name = "Jane Doe",
            previous_messages = messages,
        }))!;
    }

    /// <summary>The same inputs as .NET values, as an in-process caller holds them.</summary>
    public static Dictionary<string, object?> Values() => new(StringComparer.Ordinal)
    {
        ["company_name"] = "Acme Corp",
        ["customer_name"] = "Jane Doe",
        ["previous_messages"] = Enumerable.Range(0, 10)
            .Select(object? (i) => new Dictionary<string, object?>(StringComparer.Ordinal) { ["role"] = Role(i), ["content"] = MessageTexts[i] })
            .ToList(),
    };

    private static string Role(int i) => i % 2 == 0 ? "user" : "assistant";
}
