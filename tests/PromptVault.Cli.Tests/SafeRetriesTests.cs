using PromptVault.Client;
using PromptVault.Core.Contracts;
using PromptVault.Server.Tests;

namespace PromptVault.Cli.Tests;

/// <summary>The CLI's HTTP pipeline sends a write again after a lost answer only when it carries an Idempotency-Key.</summary>
public sealed class SafeRetriesTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task KeyedCreate_FirstAnswerLost_RetriedAndWrittenOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var losing = new LosingFirstAnswerHandler { InnerHandler = new SocketsHttpHandler() };
        using var http = new HttpClient(SafeRetries.CreateHandler(losing)) { BaseAddress = fixture.Server.BaseAddress };
        var client = new PromptVaultClient(http, fixture.Server.AdminKey);
        await client.CreatePromptAsync(new CreatePromptRequest("retried-create", Content: "A"), ct);
        losing.Armed = true;

        var version = await client.CreateVersionAsync("retried-create", new CreateVersionRequest("B", ChangeDescription: "B"), ct);

        Assert.Equal(2, losing.Sent);
        Assert.Equal("1.0.1", version.Version);
        Assert.Equal(2, (await client.ListVersionsAsync("retried-create", ct)).Versions.Count);
    }

    [Fact]
    public async Task UnkeyedWrite_FirstAnswerLost_NotSentAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        var losing = new LosingFirstAnswerHandler { InnerHandler = new SocketsHttpHandler() };
        using var http = new HttpClient(SafeRetries.CreateHandler(losing)) { BaseAddress = fixture.Server.BaseAddress };
        var client = new PromptVaultClient(http, fixture.Server.AdminKey);
        await client.CreatePromptAsync(new CreatePromptRequest("unretried-rollback", Content: "A"), ct);
        await client.CreateVersionAsync("unretried-rollback", new CreateVersionRequest("B", ChangeDescription: "B"), ct);
        losing.Armed = true;

        await Assert.ThrowsAsync<HttpRequestException>(() => client.RollbackAsync("unretried-rollback", "1.0.0", cancellationToken: ct));

        Assert.Equal(1, losing.Sent);
        Assert.Equal(3, (await client.ListVersionsAsync("unretried-rollback", ct)).Versions.Count);
    }

    /// <summary>Once armed, delivers the next request to the server but loses its answer, as a dropped connection does.</summary>
    private sealed class LosingFirstAnswerHandler : DelegatingHandler
    {
        public bool Armed { get; set; }

        public int Sent { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (!Armed) return response;
            if (++Sent > 1) return response;
            response.Dispose();
            throw new HttpRequestException(HttpRequestError.ResponseEnded, "The connection was closed before the answer arrived.");
        }
    }
}
