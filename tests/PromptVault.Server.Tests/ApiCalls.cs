using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PromptVault.Core.Contracts;

namespace PromptVault.Server.Tests;

/// <summary>Small helpers for calling the API as a client would: JSON in, status and JSON out.</summary>
public static class ApiCalls
{
    public const string SupportTemplate = """
        You are a helpful customer support agent for {{company_name}}.
        {{#if customer_name}}The customer's name is {{customer_name}}.{{/if}}
        Previous messages:
        {{#each previous_messages}}{{role}}: {{content}}
        {{/each}}
        """;

    public static object SupportPrompt(string name) => new
    {
        name,
        description = "Customer support system prompt",
        type = "system",
        content = SupportTemplate,
        variables = new object[]
        {
            new { name = "company_name", type = "string", required = true, description = "The company" },
            new { name = "customer_name", type = "string", required = false },
            new { name = "previous_messages", type = "array", required = false },
        },
        metadata = new { model = "gpt-4o-mini", temperature = 0.3, maxTokens = 500 },
        tags = new[] { "support" },
        category = "support",
    };

    public static string UniqueName(string prefix = "p") => $"{prefix}-{Guid.NewGuid():N}"[..24];

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is string raw) request.Content = new StringContent(raw, Encoding.UTF8, "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body, options: PromptVaultJson.Options);
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        if (!response.IsSuccessStatusCode && text.Length > 0)
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public static Task<(HttpStatusCode Status, JsonNode? Body)> PostAsync(HttpClient client, string path, object? body) => SendAsync(client, HttpMethod.Post, path, body);

    public static Task<(HttpStatusCode Status, JsonNode? Body)> PutAsync(HttpClient client, string path, object? body) => SendAsync(client, HttpMethod.Put, path, body);

    public static Task<(HttpStatusCode Status, JsonNode? Body)> GetAsync(HttpClient client, string path) => SendAsync(client, HttpMethod.Get, path);

    /// <summary>Creates the customer-support prompt and returns its name.</summary>
    public static async Task<string> CreateSupportPromptAsync(HttpClient client, string? name = null)
    {
        name ??= UniqueName("support");
        var (status, body) = await PostAsync(client, "/api/prompts", SupportPrompt(name));
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        return name;
    }

    /// <summary>Creates the customer-support prompt with <c>requireTests: true</c> and returns its name.</summary>
    public static async Task<string> CreateGatedSupportPromptAsync(HttpClient client)
    {
        var name = UniqueName();
        var prompt = JsonNode.Parse(JsonSerializer.Serialize(SupportPrompt(name)))!.AsObject();
        prompt["requireTests"] = true;
        var (status, body) = await PostAsync(client, "/api/prompts", prompt);
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        return name;
    }

    public static async Task<JsonNode> NewVersionAsync(HttpClient client, string name, object body)
    {
        var (status, created) = await PostAsync(client, $"/api/prompts/{name}/versions", body);
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
        return created!;
    }

    public static string Str(this JsonNode? node, string property) => node![property]!.GetValue<string>();

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
