using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;

namespace PromptVault.Client.Tests;

/// <summary>The SDK resolves and renders in process exactly as the server does over HTTP.</summary>
public sealed class ParityTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    private SdkServer Server => fixture.Server;

    [Fact]
    public async Task GetPromptAsync_UnitsAtEveryVariantsEdgeAndASample_SameVariantsAsTheServersAssignmentRoute()
    {
        var ct = TestContext.Current.CancellationToken;
        var api = Server.Api;
        var name = Prompts.NewName("assign");
        var control = await Prompts.CreateAsync(api, name, "control", cancellationToken: ct);
        var b = await Prompts.AddVersionAsync(api, name, "challenger b", ct);
        var c = await Prompts.AddVersionAsync(api, name, "challenger c", ct);
        var experiment = await Prompts.StartExperimentAsync(api, name, [(control, 33.33m), (b, 33.33m), (c, 33.34m)], ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var snapshot = host.Sdk.Snapshots.Current!;
        var candidates = Enumerable.Range(0, 100_000).Select(i => i % 7 == 0 ? $"user-{i}-é✓" : $"user-{i}").ToArray();

        // A disagreement on where a variant ends shows only for units within a bucket of its edge (3333, 6666): the
        // server is asked for every such unit among 100,000 (about 60), and for the first 2,000 of any bucket.
        var seed = ulong.Parse(experiment.HashSeed, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        int[] edges = [3333, 6666];
        var units = candidates.Where((u, i) => i < 2_000 || edges.Any(edge => Math.Abs(Assignment.Bucket(seed, u) - edge) <= 1)).ToArray();
        Assert.InRange(units.Length, 2_020, 2_200);

        // The SDK's resolve without its exposure queue: the same code GetPromptAsync runs.
        var local = units.Select(u => PromptVaultSdk.Resolve(snapshot, name, null, u, null, null).VariantId).ToArray();
        var remote = new string[units.Length];
        using var http = new HttpClient { BaseAddress = Server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", Server.AdminKey);
        await Parallel.ForAsync(0, units.Length, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (i, token) =>
        {
            var answer = await new PromptVaultClient(http).GetAssignmentAsync(experiment.Id, units[i], token);
            remote[i] = answer.VariantId;
        });

        var differing = Enumerable.Range(0, units.Length).Where(i => local[i] != remote[i]).Select(i => units[i]).Take(5).ToList();
        Assert.Empty(differing);
        Assert.Equal(3, local.Distinct().Count());
    }

    public static TheoryData<string, string, string> Templates => new()
    {
        { "plain", "Hello {{name}}!", """{ "name": "Ann" }""" },
        { "conditional", "{{#if vip}}Dear valued {{name}}{{else}}Hi {{name}}{{/if}}, you have {{count}} items.", """{ "name": "Bo", "vip": true, "count": 3 }""" },
        { "each", "Conversation:\n{{#each messages}}\n{{role}}: {{content}}\n{{/each}}\nAnswer.", """{ "messages": [{ "role": "user", "content": "Late order" }, { "role": "assistant", "content": "Sorry!" }] }""" },
        { "nested", "{{customer.name}} ({{customer.tier}}) from {{customer.address.city}}", """{ "customer": { "name": "Cy", "tier": "gold", "address": { "city": "Oslo" } } }""" },
        { "numbers", "t={{temperature}} n={{n}} big={{big}} neg={{neg}}", """{ "temperature": 0.25, "n": 42, "big": 12345678901, "neg": -1.5 }""" },
        { "defaults", "{{greeting}}, {{name}}. {{#unless quiet}}Loud.{{/unless}}", """{ "name": "Di" }""" },
        { "unicode", "  Ünïcødé → {{text}} ✓  ", """{ "text": "日本語 & <b>html</b>" }""" },
        { "array-of-strings", "Tags: {{#each tags}}[{{this}}]{{/each}}", """{ "tags": ["a", "b", "c"] }""" },
    };

    [Theory]
    [MemberData(nameof(Templates))]
    public async Task GetPromptAsync_TestTemplate_RendersWhatTheServerRenders(string stem, string template, string variablesJson)
    {
        var ct = TestContext.Current.CancellationToken;
        var api = Server.Api;
        var name = Prompts.NewName(stem);
        var variables = JsonDocument.Parse(variablesJson).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
        await Prompts.CreateAsync(api, name, template, Declared(template, variables), cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        var server = await api.RenderAsync(name, new RenderRequest(variables), ct);
        var sdk = await host.Vault.GetPromptAsync(name, variables.ToDictionary(v => v.Key, v => ToClr(v.Value)), cancellationToken: ct);

        Assert.Equal(server.Content, sdk.Content);
        Assert.Equal(server.VersionId, sdk.VersionId);
        Assert.Equal(server.Version, sdk.Version);
    }

    /// <summary>The variables a template uses, typed from the sample values; the <c>defaults</c> template's absent ones get defaults.</summary>
    private static List<VariableDefinition> Declared(string template, Dictionary<string, JsonElement> values)
    {
        var declared = values.Select(v => new VariableDefinition(v.Key, v.Value.ValueKind switch
        {
            JsonValueKind.Number => VariableType.Number,
            JsonValueKind.True or JsonValueKind.False => VariableType.Boolean,
            JsonValueKind.Array => VariableType.Array,
            JsonValueKind.Object => VariableType.Object,
            _ => VariableType.String,
        })).ToList();
        if (template.Contains("{{greeting}}")) declared.Add(new VariableDefinition("greeting", DefaultValue: Prompts.Json("\"Hello\"")));
        if (template.Contains("quiet")) declared.Add(new VariableDefinition("quiet", VariableType.Boolean, DefaultValue: Prompts.Json("false")));
        return declared;
    }

    /// <summary>The .NET value an application would pass for the JSON value.</summary>
    private static object? ToClr(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.TryGetInt64(out var whole) ? whole : value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => value.EnumerateArray().Select(ToClr).ToList(),
        JsonValueKind.Object => value.EnumerateObject().ToDictionary(p => p.Name, p => ToClr(p.Value)),
        _ => null,
    };
}
