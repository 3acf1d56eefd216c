using PromptVault.Benchmarks;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Templates;

/// <summary>The customer-support system prompt of the demo, rendered end to end.</summary>
public sealed class CustomerSupportTemplateTests
{
    internal const string Template = """
        You are a friendly support agent for {{company_name}}.
        {{#if customer_name}}
        You are talking to {{customer_name}}; greet them by name.
        {{/if}}
        Conversation so far:
        {{#each previous_messages}}
        {{role}}: {{content}}
        {{/each}}
        Answer the last message.
        """;

    internal static readonly VariableDefinition[] Variables =
    [
        new("company_name", Required: true),
        new("customer_name"),
        new("previous_messages", VariableType.Array, DefaultValue: Json("[]")),
    ];

    internal const string Messages = """
        [{ "role": "user", "content": "My order is late." }, { "role": "assistant", "content": "Sorry to hear that!" }]
        """;

    [Fact]
    public void Render_ReferenceTemplate_WritesWhatHandlebarsJsWrites()
    {
        var prompt = new TemplateEngine().For(Version("example-1", CustomerSupportPrompt.Template, Variables));

        var output = prompt.Render(Inputs(("company_name", "\"Acme Corp\""), ("customer_name", "\"Jane Doe\""),
            ("previous_messages", """[{ "role": "user", "content": "Hi, my order #10423 arrived." }, { "role": "assistant", "content": "Sorry!" }]""")));

        // Handlebars.js 4.7 (noEscape) on the same inputs, trimmed.
        Assert.Equal("You are a customer support agent for Acme Corp.\n\nThe customer's name is Jane Doe. Address them by name.\n\n"
            + "Your responses should be:\n- Professional and empathetic\n- Solution-oriented\n- Concise but complete\n\nPrevious context:\n"
            + "user: Hi, my order #10423 arrived.\nassistant: Sorry!", output);
    }

    [Fact]
    public void Validate_CustomerSupportTemplate_IsAccepted()
    {
        var engine = new TemplateEngine();

        var error = Record.Exception(() => engine.Validate(Template, Variables));

        Assert.Null(error);
    }

    [Fact]
    public void Render_WithCustomerName_GreetsByName()
    {
        var prompt = new TemplateEngine().For(Version("support-1", Template, Variables));

        var output = prompt.Render(Inputs(("company_name", "\"Acme\""), ("customer_name", "\"Ann\""), ("previous_messages", Messages)));

        Assert.Equal("""
            You are a friendly support agent for Acme.
            You are talking to Ann; greet them by name.
            Conversation so far:
            user: My order is late.
            assistant: Sorry to hear that!
            Answer the last message.
            """, output);
    }

    [Fact]
    public void Render_WithoutCustomerName_OmitsTheGreetingLine()
    {
        var prompt = new TemplateEngine().For(Version("support-1", Template, Variables));

        var output = prompt.Render(Inputs(("company_name", "\"Acme\""), ("previous_messages", Messages)));

        Assert.Equal("""
            You are a friendly support agent for Acme.
            Conversation so far:
            user: My order is late.
            assistant: Sorry to hear that!
            Answer the last message.
            """, output);
    }

    [Fact]
    public void Render_WithoutMessages_UsesEmptyDefault()
    {
        var prompt = new TemplateEngine().For(Version("support-1", Template, Variables));

        var output = prompt.Render(Inputs(("company_name", "\"Acme\"")));

        Assert.Equal("""
            You are a friendly support agent for Acme.
            Conversation so far:
            Answer the last message.
            """, output);
    }
}
