using System.Text.Json;
using BenchmarkDotNet.Attributes;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;

namespace PromptVault.Benchmarks;

/// <summary>
/// Rendering the customer-support template with 10 previous messages: validate the inputs and render, with the
/// version's template compiled once and cached (what the server does) against compiling it on every call.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RenderBenchmarks
{
    private readonly TemplateEngine _engine = new();
    private PromptVersion _version = null!;
    private Dictionary<string, JsonElement> _inputs = null!;

    [GlobalSetup]
    public void Setup()
    {
        _version = CustomerSupportPrompt.Version("v1");
        _inputs = CustomerSupportPrompt.Inputs();
        _engine.For(_version).Render(_inputs);
    }

    [Benchmark(Baseline = true)]
    public string CompileEveryCall() => new TemplateEngine().For(_version).Render(_inputs);

    [Benchmark]
    public string CompiledOnceCached() => _engine.For(_version).Render(_inputs);
}
