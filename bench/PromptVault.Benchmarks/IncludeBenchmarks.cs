using System.Text.Json;
using BenchmarkDotNet.Attributes;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using PromptVault.Core.Versioning;

namespace PromptVault.Benchmarks;

/// <summary>
/// The cost of an include: the customer-support template with a guard paragraph written inline, against the same text
/// included as <c>{{&gt; guard}}</c> and resolved at each render as the server resolves it (a label looked up in memory,
/// the compiled template taken by version id), so a moved label is seen by the next render.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class IncludeBenchmarks
{
    private const string Guard = "Never share another customer's data with {{customer_name}}. Refunds follow the published policy.";

    private readonly TemplateEngine _engine = new();
    private readonly Dictionary<(string Name, string Label), PromptVersion> _labelled = [];
    private PromptVersion _inline = null!;
    private PromptVersion _includer = null!;
    private Dictionary<string, JsonElement> _inputs = null!;
    private Func<PromptReference, CancellationToken, ValueTask<IncludedPrompt?>> _find = null!;

    [GlobalSetup]
    public void Setup()
    {
        _inline = CustomerSupportPrompt.Version("inline", Guard + "\n");
        _includer = CustomerSupportPrompt.Version("includer", "{{> guard}}\n");
        _labelled[("guard", Label.Production)] = new PromptVersion("guard-1", "p2", 1, SemanticVersion.Initial, Guard,
            [new VariableDefinition("customer_name")], PromptMetadata.Empty, "Initial version", "bench", DateTimeOffset.UnixEpoch, VersionStatus.Production);
        _inputs = CustomerSupportPrompt.Inputs();
        _find = (reference, _) => ValueTask.FromResult(_labelled.TryGetValue((reference.Name, reference.Label!), out var version)
            ? new IncludedPrompt(new ReferencedVersion(reference.Name, version.Version.ToString(), version.Id), _engine.For(version))
            : null);
        if (Inline() != IncludedResolvedPerRender().AsTask().GetAwaiter().GetResult())
            throw new InvalidOperationException("The inline and included templates render differently.");
    }

    [Benchmark(Baseline = true)]
    public string Inline() => _engine.For(_inline).Render(_inputs);

    [Benchmark]
    public async ValueTask<string> IncludedResolvedPerRender()
    {
        var template = _engine.For(_includer);
        return template.Render(_inputs, await PromptIncludes.ResolveAsync("support", template.References, _find));
    }
}
