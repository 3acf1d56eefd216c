using System.Net;
using System.Text.Json.Nodes;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests;

/// <summary>Helpers for experiment tests: a prompt with challenger versions, experiments, metric events.</summary>
public static class Experiments
{
    /// <summary>Creates the support prompt (1.0.0, promoted) and two challengers (1.0.1, 1.0.2); returns the name and the three version ids.</summary>
    public static async Task<(string Name, string[] VersionIds)> CreatePromptWithChallengersAsync(HttpClient client)
    {
        var name = await CreateSupportPromptAsync(client);
        var (status, _) = await PutAsync(client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        Assert.Equal(HttpStatusCode.OK, status);
        var casual = await NewVersionAsync(client, name, new { content = "Hey there! Support for {{company_name}} here.", changeDescription = "casual" });
        var structured = await NewVersionAsync(client, name, new { content = "Role: support agent for {{company_name}}. Answer in three parts.", changeDescription = "structured" });
        var (_, control) = await GetAsync(client, $"/api/prompts/{name}/versions/1.0.0");
        return (name, [control.Str("id"), casual.Str("id"), structured.Str("id")]);
    }

    public static object ThreeWay(string prompt, string[] versionIds, object? extra = null) => new
    {
        name = UniqueName("exp"),
        prompt,
        description = "tone test",
        variants = new object[]
        {
            new { name = "control", versionId = versionIds[0], weight = 50 },
            new { name = "casual", versionId = versionIds[1], weight = 25 },
            new { name = "structured", versionId = versionIds[2], weight = 25 },
        },
        targetMetric = "conversionRate",
        minimumSampleSize = 100,
    };

    public static async Task<JsonNode> CreateAsync(HttpClient client, object body)
    {
        var (status, created) = await PostAsync(client, "/api/experiments", body);
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
        return created!;
    }

    public static async Task<JsonNode> MoveAsync(HttpClient client, string id, string verb)
    {
        var (status, moved) = await PostAsync(client, $"/api/experiments/{id}/{verb}", null);
        Assert.True(status == HttpStatusCode.OK, moved?.ToJsonString());
        return moved!;
    }

    public static async Task<JsonNode> RecordAsync(HttpClient client, IEnumerable<object> events)
    {
        var (status, body) = await PostAsync(client, "/api/metrics", new { events = events.ToArray() });
        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        return body!;
    }

    public static string VariantId(JsonNode experiment, string name) =>
        experiment["variants"]!.AsArray().Single(v => v.Str("name") == name).Str("id");

    /// <summary>
    /// Sends batches of 200 new units until the experiment stops running (at most 12,000 units): each unit renders the prompt
    /// (its exposure) and then sends one event for the variant it was served; <paramref name="eventOf"/> gets the variant's
    /// name and how many units it had before.
    /// </summary>
    public static async Task<JsonNode> SendUntilStoppedAsync(HttpClient client, JsonNode experiment, Func<string, int, JsonObject> eventOf)
    {
        var id = experiment.Str("id");
        var prompt = experiment.Str("prompt");
        var names = experiment["variants"]!.AsArray().ToDictionary(v => v.Str("id"), v => v.Str("name"));
        var unitsOf = names.Values.ToDictionary(n => n, _ => 0);
        for (var batch = 0; batch < 60; batch++)
        {
            var events = new List<object>();
            for (var unit = batch * 200; unit < (batch + 1) * 200; unit++)
            {
                var unitId = $"{id}-unit-{unit}";
                var (status, rendered) = await PostAsync(client, $"/api/prompts/{prompt}/render", new { variables = new { company_name = "Acme" }, unitId });
                Assert.True(status == HttpStatusCode.OK, rendered?.ToJsonString());
                var arm = names[rendered.Str("variantId")];
                var e = eventOf(arm, unitsOf[arm]++);
                e["versionId"] = rendered.Str("versionId");
                e["experimentId"] = id;
                e["variantId"] = rendered.Str("variantId");
                e["unitId"] = unitId;
                events.Add(e);
            }
            await RecordAsync(client, events);
            var (_, current) = await GetAsync(client, $"/api/experiments/{id}");
            if (current.Str("status") != "running")
                return current!;
        }
        var (_, results) = await GetAsync(client, $"/api/experiments/{id}/results");
        Assert.Fail("the experiment was still running after 12,000 units: " + results?.ToJsonString());
        return null!;
    }
}
