using System.Text.Json;
using BenchmarkDotNet.Attributes;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;

namespace PromptVault.Benchmarks;

/// <summary>
/// Resolve in process, as the SDK does from its snapshot: pick the unit's variant of a running 50/25/25 experiment,
/// take that variant's version's compiled template (by version id), then validate the inputs and render the
/// customer-support template with 10 previous messages, given as JSON (the HTTP path) or as .NET values (in process).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ResolveBenchmarks
{
    private const ulong Seed = 0x9E3779B97F4A7C15;
    private const string UnitId = "3f2b8c1e-7a4d-4e2b-9c1f-5d6e7a8b9c0d";

    private readonly TemplateEngine _engine = new();
    private readonly Dictionary<string, PromptVersion> _versionsById = new(StringComparer.Ordinal);
    private Variant[] _variants = null!;
    private int[] _bucketEnds = null!;
    private Dictionary<string, JsonElement> _inputs = null!;
    private Dictionary<string, object?> _values = null!;

    [GlobalSetup]
    public void Setup()
    {
        _variants =
        [
            new("control", "control", "v1", 50m),
            new("concise", "concise", "v2", 25m),
            new("warm", "warm", "v3", 25m),
        ];
        _versionsById["v1"] = CustomerSupportPrompt.Version("v1");
        _versionsById["v2"] = CustomerSupportPrompt.Version("v2", "Keep answers short.\n");
        _versionsById["v3"] = CustomerSupportPrompt.Version("v3", "Be warm and patient.\n");
        _bucketEnds = Assignment.BucketEnds(_variants.Select(v => v.Weight).ToList());
        _inputs = CustomerSupportPrompt.Inputs();
        _values = CustomerSupportPrompt.Values();
        foreach (var version in _versionsById.Values)
        {
            if (_engine.For(version).Render(_inputs) != _engine.For(version).RenderValues(_values))
                throw new InvalidOperationException("The JSON and .NET-values paths render differently.");
        }
    }

    [Benchmark(Baseline = true)]
    public string ResolveValidateRender()
    {
        var variant = _variants[Assignment.VariantIndex(Seed, UnitId, _bucketEnds)];
        return _engine.For(_versionsById[variant.VersionId]).Render(_inputs);
    }

    /// <summary>The same, with the inputs as .NET values (an application using Core, or the SDK evaluating locally).</summary>
    [Benchmark]
    public string ResolveValidateRenderValues()
    {
        var variant = _variants[Assignment.VariantIndex(Seed, UnitId, _bucketEnds)];
        return _engine.For(_versionsById[variant.VersionId]).RenderValues(_values);
    }
}
