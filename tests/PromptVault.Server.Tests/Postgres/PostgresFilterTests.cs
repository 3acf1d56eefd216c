using System.Net;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Postgres;

/// <summary>Query filters on a server on PostgreSQL answer as on SQLite.</summary>
public sealed class PostgresFilterTests
{
    [Theory]
    [InlineData("/api/prompts?category=a%00b", "category")]
    [InlineData("/api/prompts?tag=%00", "tag")]
    [InlineData("/api/audit?actor=a%00", "actor")]
    [InlineData("/api/audit?action=prompt.created%00", "action")]
    public async Task AFilterHoldingNul_Answers400NamingIt_NotA500(string path, string field)
    {
        await using var servers = await SharedDatabaseServers.StartAsync(count: 1, cancellationToken: TestContext.Current.CancellationToken);

        var (status, problem) = await GetAsync(servers.A, path);

        Assert.True(status == HttpStatusCode.BadRequest, problem?.ToJsonString());
        Assert.Equal("invalid_text", problem.Str("code"));
        Assert.Equal(field, problem.Str("field"));
        Assert.Equal($"'{field}' holds the character U+0000 (\\u0000), which PromptVault does not store.", problem.Str("detail"));
    }
}
