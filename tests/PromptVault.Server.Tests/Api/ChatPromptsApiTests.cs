using System.Net;
using System.Text.Json.Nodes;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>Chat prompts (SPEC §7) over HTTP: create, version, render, compare, experiments, and bad input naming the message.</summary>
public sealed class ChatPromptsApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    public static object ChatPrompt(string name, object[]? messages = null) => new
    {
        name,
        type = "chat",
        variables = new object[]
        {
            new { name = "company", type = "string", required = true },
            new { name = "question", type = "string", required = true },
            new { name = "history", type = "array" },
        },
        messages = messages ?? Messages("You help {{company}} customers."),
    };

    private static object[] Messages(string system) =>
    [
        new { role = "system", content = system },
        new { role = "placeholder", content = "history" },
        new { role = "user", content = "{{question}}" },
    ];

    private async Task<string> CreateChatAsync()
    {
        var name = UniqueName("chat");
        var (status, body) = await PostAsync(_client, "/api/prompts", ChatPrompt(name));
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        return name;
    }

    private static object Variables => new
    {
        company = "Acme",
        question = "Where is my parcel?",
        history = new[] { new { role = "user", content = "Hi" }, new { role = "assistant", content = "Hello, how can I help?" } },
    };

    [Fact]
    public async Task CreatePrompt_Chat_ReturnsMessagesWithTheVersion()
    {
        var name = UniqueName("chat");

        var (status, body) = await PostAsync(_client, "/api/prompts", ChatPrompt(name));

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("chat", body.Str("type"));
        var messages = body!["latestVersion"]!["messages"]!.AsArray();
        Assert.Equal(["system", "placeholder", "user"], messages.Select(m => m.Str("role")));
        Assert.Equal("history", messages[1].Str("content"));
    }

    [Fact]
    public async Task Render_Chat_ReturnsMessagesWithHistorySplicedAndNoContent()
    {
        var name = await CreateChatAsync();

        var (status, body) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = Variables, version = "1.0.0" });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(body!["content"]);
        var messages = body["messages"]!.AsArray();
        Assert.Equal(["system", "user", "assistant", "user"], messages.Select(m => m.Str("role")));
        Assert.Equal(["You help Acme customers.", "Hi", "Hello, how can I help?", "Where is my parcel?"], messages.Select(m => m.Str("content")));
    }

    [Fact]
    public async Task CreateVersion_ChangedMessage_BumpsPatch_AndSameMessagesAre409()
    {
        var name = await CreateChatAsync();

        var version = await NewVersionAsync(_client, name, new { messages = Messages("You help {{company}} customers kindly."), changeDescription = "kind" });
        var (status, unchanged) = await PostAsync(_client, $"/api/prompts/{name}/versions",
            new { messages = Messages("You help {{company}} customers kindly."), changeDescription = "again" });

        Assert.Equal("1.0.1", version.Str("version"));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("version_unchanged", unchanged.Str("code"));
    }

    [Fact]
    public async Task Compare_Chat_ReportsChangedMessageWithItsDiff()
    {
        var name = await CreateChatAsync();
        await NewVersionAsync(_client, name, new { messages = Messages("You help {{company}} customers kindly."), changeDescription = "kind" });

        var (status, body) = await GetAsync(_client, $"/api/prompts/{name}/compare?a=1.0.0&b=1.0.1");

        Assert.Equal(HttpStatusCode.OK, status);
        var changed = Assert.Single(body!["messagesDiff"]!["changed"]!.AsArray());
        Assert.Equal(0, changed!["a"]!.GetValue<int>());
        Assert.Contains("+You help {{company}} customers kindly.", changed.Str("unifiedDiff").Split('\n'));
        Assert.Empty(body["messagesDiff"]!["added"]!.AsArray());
        Assert.Contains("## system", body.Str("unifiedDiff"));
    }

    public static TheoryData<string, string, string> BadMessages() => new()
    {
        { """[{"role":"system","content":"Hi"},{"role":"user","content":"{{questoin}}"}]""", "messages[1].content", "questoin" },
        { """[{"role":"system","content":"Hi"},{"role":"placeholder","content":"company"}]""", "messages[1].content", "array" },
        { """[{"role":"narrator","content":"Hi"}]""", "messages[0].role", "placeholder" },
        { """[{"role":"user","content":null}]""", "messages[0].content", "required" },
        { """[]""", "messages", "at least one" },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task CreatePrompt_BadMessages_400NamingMessageIndexAndField(string messages, string field, string mentioned)
    {
        var body = $$"""
            { "name": "{{UniqueName("chat")}}", "type": "chat", "messages": {{messages}},
              "variables": [{ "name": "company" }, { "name": "question" }] }
            """;

        var (status, problem) = await PostAsync(_client, "/api/prompts", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, problem.Str("field"));
        Assert.Contains(mentioned, problem.Str("detail"));
    }

    [Fact]
    public async Task CreatePrompt_ChatWithContent_400()
    {
        var (status, problem) = await PostAsync(_client, "/api/prompts", new { name = UniqueName("chat"), type = "chat", content = "Hi", messages = Messages("Hi") });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("content", problem.Str("field"));
    }

    [Fact]
    public async Task Render_BadHistoryItem_400NamingTheVariable()
    {
        var name = await CreateChatAsync();

        var (status, problem) = await PostAsync(_client, $"/api/prompts/{name}/render", new
        {
            variables = new { company = "Acme", question = "?", history = new[] { new { role = "robot", content = "beep" } } },
            version = "1.0.0",
        });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("variables.history[0]", problem.Str("field"));
    }

    [Fact]
    public async Task Experiment_ChatVersionsAsVariants_RenderTheAssignedVariantsMessages()
    {
        var name = await CreateChatAsync();
        await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        var challenger = await NewVersionAsync(_client, name, new { messages = Messages("Challenger for {{company}}."), changeDescription = "challenger" });
        var (_, control) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0");
        var experiment = await Experiments.CreateAsync(_client, new
        {
            name = UniqueName("exp"),
            prompt = name,
            variants = new object[]
            {
                new { name = "control", versionId = control.Str("id"), weight = 50 },
                new { name = "challenger", versionId = challenger.Str("id"), weight = 50 },
            },
            targetMetric = "conversionRate",
            minimumSampleSize = 100,
        });
        await Experiments.MoveAsync(_client, experiment.Str("id"), "start");

        var systems = new HashSet<string>();
        for (var unit = 0; unit < 40; unit++)
        {
            var (status, rendered) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = Variables, unitId = $"user-{unit}" });
            Assert.Equal(HttpStatusCode.OK, status);
            var system = rendered!["messages"]![0]!.Str("content");
            Assert.Equal(rendered.Str("variantId") == Experiments.VariantId(experiment, "control") ? "You help Acme customers." : "Challenger for Acme.", system);
            systems.Add(system);
        }

        Assert.Equal(2, systems.Count);
    }
}
