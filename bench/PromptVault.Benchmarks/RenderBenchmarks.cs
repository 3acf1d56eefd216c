using System.Text.Json;
using BenchmarkDotNet.Attributes;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using PromptVault.Core.Versioning;

namespace PromptVault.Benchmarks;

/// <summary>
/// Rendering the customer-support template with 10 previous messages: validate the inputs and render, with the
/// version's template compiled once and cached (what the server does) against compiling it on every call.
/// </summary>
[MemoryDiagnoser]
public class RenderBenchmarks
{
    private const string Template = """
        You are a helpful customer support agent for {{company_name}}.
        {{#if customer_name}}The customer's name is {{customer_name}}.{{/if}}
        Previous messages:
        {{#each previous_messages}}{{role}}: {{content}}
        {{/each}}
        """;

    private readonly TemplateEngine _engine = new();
    private PromptVersion _version = null!;
    private Dictionary<string, JsonElement> _inputs = null!;

    [GlobalSetup]
    public void Setup()
    {
        VariableDefinition[] variables =
        [
            new("company_name", VariableType.String, Required: true),
            new("customer_name", VariableType.String),
            new("previous_messages", VariableType.Array),
        ];
        _version = new PromptVersion("v1", "p1", 1, SemanticVersion.Initial, Template, variables, PromptMetadata.Empty,
            "Initial version", "bench", DateTimeOffset.UnixEpoch, VersionStatus.Production);
        var messages = Enumerable.Range(1, 10).Select(i => new { role = i % 2 == 1 ? "user" : "assistant", content = $"Message number {i} about order #{1000 + i}." });
        _inputs = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(new
        {
            company_name = "Acme",
            customer_name = "Ana",
            previous_messages = messages,
        }))!;
        _engine.For(_version).Render(_inputs);
    }

    [Benchmark(Baseline = true)]
    public string CompileEveryCall() => new TemplateEngine().For(_version).Render(_inputs);

    [Benchmark]
    public string CompiledOnceCached() => _engine.For(_version).Render(_inputs);
}
