using System.Net;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// A body giving a member twice was read as its last value (a label moved to the second <c>version</c>, the playground ran
/// the second <c>prompt</c>), where a proxy or an audit log reading the first would disagree: it is refused, naming the member.
/// </summary>
public sealed class RepeatedMembersTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    private static void AssertRefused(HttpStatusCode status, System.Text.Json.Nodes.JsonNode? problem, string field)
    {
        Assert.True(HttpStatusCode.BadRequest == status, $"{status} {problem?.ToJsonString()}");
        Assert.Equal(("invalid_json", field, $"'{field}' appears twice in the body."), (problem.Str("code"), problem.Str("field"), problem.Str("detail")));
    }

    [Fact]
    public async Task MoveLabel_VersionGivenTwice_Returns400NamingIt_AndLeavesTheLabel()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, new { content = "Second {{company_name}}", changeDescription = "second" });
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" })).Status);

        var (status, problem) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", """{"version": "1.0.1", "version": "1.0.0"}""");

        AssertRefused(status, problem, "version");
        Assert.Equal("1.0.1", (await GetAsync(_client, $"/api/prompts/{name}")).Body!["labels"]!["production"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"variables": {"company_name": "Acme"}, "version": "1.0.0", "version": "9.9.9"}""", "version")]
    [InlineData("""{"variables": {"company_name": "Acme"}, "label": "production", "Label": "staging"}""", "Label")]
    [InlineData("""{"variables": {"company_name": "Acme"}, "Variables": {"company_name": "Other"}}""", "Variables")]
    [InlineData("""{"variables": {"company_name": "Acme", "company_name": "Other"}}""", "variables.company_name")]
    [InlineData("""{"variables": {"company_name": "Acme", "customer_name": "x", "company_name": "Other"}}""", "variables.company_name")]
    public async Task Render_MemberGivenTwice_Returns400NamingIt(string body, string field)
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, problem) = await PostAsync(_client, $"/api/prompts/{name}/render", body);

        AssertRefused(status, problem, field);
    }

    // Each member once renders; a name repeated inside a variable's value is the template's data, read as the last one.
    [Theory]
    [InlineData("""[{"role": "user", "content": "said-first"}, {"role": "user", "content": "said-last"}]""", "said-first", null)]
    [InlineData("""[{"role": "user", "content": "said-first", "content": "said-last"}]""", "said-last", "said-first")]
    public async Task Render_EachMemberOnce_RendersTheLastOfANameRepeatedInsideAValue(string messages, string rendered, string? notRendered)
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, $"/api/prompts/{name}/render",
            $$"""{"variables": {"company_name": "Acme", "previous_messages": {{messages}}}, "version": "1.0.0"}""");

        Assert.True(HttpStatusCode.OK == status, body?.ToJsonString());
        Assert.Contains("Acme", body.Str("content"));
        Assert.Contains(rendered, body.Str("content"));
        if (notRendered is not null) Assert.DoesNotContain(notRendered, body.Str("content"));
    }

    [Theory]
    [InlineData("""{"prompt": "NAME", "prompt": "other", "versions": [{"version": "1.0.0"}], "variables": {"company_name": "x"}}""", "prompt")]
    [InlineData("""{"prompt": "NAME", "versions": [{"version": "1.0.0", "version": "1.0.1"}], "variables": {"company_name": "x"}}""", "versions[0].version")]
    public async Task Playground_MemberGivenTwice_Returns400NamingIt(string body, string field)
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, problem) = await PostAsync(_client, "/api/playground", body.Replace("NAME", name, StringComparison.Ordinal));

        AssertRefused(status, problem, field);
    }

    [Fact]
    public async Task Playground_VariableGivenTwice_Returns400NamingIt()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, problem) = await PostAsync(_client, "/api/playground",
            $$$"""{"prompt": "{{{name}}}", "versions": [{"version": "1.0.0"}], "variables": {"company_name": "x", "company_name": "y"}}""");

        Assert.True(HttpStatusCode.BadRequest == status, $"{status} {problem?.ToJsonString()}");
        Assert.Equal(("invalid_json", "variables"), (problem.Str("code"), problem.Str("field")));
        Assert.Contains("the property name 'company_name' is given twice", problem.Str("detail"));
    }

    [Fact]
    public async Task CreatePrompt_NameGivenTwice_Returns400NamingIt_AndStoresNeither()
    {
        string first = UniqueName("twice"), second = UniqueName("twice");

        var (status, problem) = await PostAsync(_client, "/api/prompts", $$"""{"name": "{{first}}", "content": "Hi", "name": "{{second}}"}""");

        AssertRefused(status, problem, "name");
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, $"/api/prompts/{first}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, $"/api/prompts/{second}")).Status);
    }
}
