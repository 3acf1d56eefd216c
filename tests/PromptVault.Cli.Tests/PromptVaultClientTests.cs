using PromptVault.Server.Tests;
using System.Net;
using System.Text.Json;
using PromptVault.Client;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Metrics;

namespace PromptVault.Cli.Tests;

/// <summary>The SDK client against a real server: routes, escaping of names with '/', and problem details.</summary>
public sealed class PromptVaultClientTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly VariableDefinition[] Variables = [new("who", VariableType.String, Required: true)];

    private PromptVaultClient CreateClient(HttpClient http, string? apiKey = null) => new(http, apiKey ?? fixture.Server.AdminKey);

    [Fact]
    public async Task CreateAndGet_NameWithSlash_IsEscapedIntoOneSegment()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var client = CreateClient(http);
        var ct = TestContext.Current.CancellationToken;

        await client.CreatePromptAsync(new CreatePromptRequest("team/support/greeting", "Greets", PromptType.User, "Hi {{who}}", Variables), ct);
        var version = await client.CreateVersionAsync("team/support/greeting", new CreateVersionRequest("Hello {{who}}", ChangeDescription: "Warmer"), ct);
        var prompt = await client.GetPromptAsync("team/support/greeting", ct);
        var byNumber = await client.GetVersionAsync("team/support/greeting", "1.0.0", ct);

        Assert.Equal("1.0.1", version.Version);
        Assert.Equal("team/support/greeting", prompt.Name);
        Assert.Equal("1.0.1", prompt.LatestVersion.Version);
        Assert.Equal("Hi {{who}}", byNumber.Content);
    }

    [Fact]
    public async Task Routes_PromoteRenderRollbackCompareAudit_RoundTrip()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var client = CreateClient(http);
        var ct = TestContext.Current.CancellationToken;
        await client.CreatePromptAsync(new CreatePromptRequest("sdk-flow", Content: "A {{who}}", Variables: Variables), ct);
        await client.CreateVersionAsync("sdk-flow", new CreateVersionRequest("B {{who}}", ChangeDescription: "B"), ct);

        var promoted = await client.MoveLabelAsync("sdk-flow", Label.Production, "1.0.1", ct);
        var rendered = await client.RenderAsync("sdk-flow", new RenderRequest(new Dictionary<string, JsonElement> { ["who"] = JsonSerializer.SerializeToElement("x") }), ct);
        var reviewed = await client.ChangeStatusAsync("sdk-flow", "1.0.0", VersionStatus.Review, ct);
        var comparison = await client.CompareAsync("sdk-flow", "1.0.0", "1.0.1", ct);
        var rolledBack = await client.RollbackAsync("sdk-flow", "1.0.0", "testing", ct);
        var versions = await client.ListVersionsAsync("sdk-flow", ct);
        var audit = await client.ListAuditAsync("sdk-flow", ct);
        var listed = await client.ListPromptsAsync(cancellationToken: ct);

        Assert.Equal(VersionStatus.Production, promoted.Status);
        Assert.Equal("B x", rendered.Content);
        Assert.Equal("1.0.1", rendered.Version);
        Assert.Equal(VersionStatus.Review, reviewed.Status);
        Assert.Equal(["A {{who}}"], comparison.ContentDiff.Removed);
        Assert.Equal(["B {{who}}"], comparison.ContentDiff.Added);
        Assert.Equal("1.0.2", rolledBack.Version);
        Assert.Equal(["production"], rolledBack.Labels);
        Assert.Equal(3, versions.Versions.Count);
        Assert.Contains(audit.Entries, e => e.Action == "prompt.rolled_back" && e.Actor == "admin");
        Assert.Contains(listed.Prompts, p => p.Name == "sdk-flow");
    }

    [Fact]
    public async Task RollbackPromoteAndMoveLabel_ExpectedVersion_SentAsIfMatch_AStaleOneIsLabelMovedAndChangesNothing()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var client = CreateClient(http);
        var ct = TestContext.Current.CancellationToken;
        await client.CreatePromptAsync(new CreatePromptRequest("sdk-expect", Content: "A"), ct);
        await client.CreateVersionAsync("sdk-expect", new CreateVersionRequest("B", ChangeDescription: "B"), ct);
        await client.CreateVersionAsync("sdk-expect", new CreateVersionRequest("C", ChangeDescription: "C"), ct);
        await client.MoveLabelAsync("sdk-expect", Label.Production, "1.0.1", ct);

        var staleRollback = await Assert.ThrowsAsync<PromptVaultApiException>(() => client.RollbackAsync("sdk-expect", "1.0.0", null, expectedProduction: "1.0.2", ct));
        var stalePromote = await Assert.ThrowsAsync<PromptVaultApiException>(() =>
            client.ChangeStatusAsync("sdk-expect", "1.0.2", VersionStatus.Production, expectedProduction: "1.0.0", ct));
        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (staleRollback.StatusCode, staleRollback.Code));
        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (stalePromote.StatusCode, stalePromote.Code));
        Assert.Equal("1.0.1", (await client.GetPromptAsync("sdk-expect", ct)).Labels[Label.Production]);
        Assert.Equal(3, (await client.ListVersionsAsync("sdk-expect", ct)).Versions.Count);

        var promoted = await client.ChangeStatusAsync("sdk-expect", "1.0.2", VersionStatus.Production, expectedProduction: "1.0.1", ct);
        var rolledBack = await client.RollbackAsync("sdk-expect", "1.0.0", "testing", expectedProduction: "1.0.2", ct);

        Assert.Equal(VersionStatus.Production, promoted.Status);
        Assert.Equal("1.0.3", rolledBack.Version);
        Assert.Equal("1.0.3", (await client.GetPromptAsync("sdk-expect", ct)).Labels[Label.Production]);
        var notANumber = await Assert.ThrowsAsync<ArgumentException>(() => client.RollbackAsync("sdk-expect", "1.0.0", null, expectedProduction: "latest", ct));
        Assert.Equal("expectedProduction", notANumber.ParamName);

        var staleMove = await Assert.ThrowsAsync<PromptVaultApiException>(() => client.MoveLabelAsync("sdk-expect", Label.Production, "1.0.1", expectedFrom: "1.0.2", ct));
        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (staleMove.StatusCode, staleMove.Code));
        Assert.Equal("1.0.3", (await client.GetPromptAsync("sdk-expect", ct)).Labels[Label.Production]);
        var moved = await client.MoveLabelAsync("sdk-expect", Label.Production, "1.0.1", expectedFrom: "1.0.3", ct);
        Assert.Equal(("1.0.1", VersionStatus.Production), (moved.Version, moved.Status));

        // Absent: only if the label is not set yet, sent as If-None-Match: *.
        var first = await client.MoveLabelAsync("sdk-expect", "staging", "1.0.0", LabelExpectation.Absent, ct);
        var second = await Assert.ThrowsAsync<PromptVaultApiException>(() => client.MoveLabelAsync("sdk-expect", "staging", "1.0.2", LabelExpectation.Absent, ct));
        var promoteFirst = await Assert.ThrowsAsync<PromptVaultApiException>(() =>
            client.ChangeStatusAsync("sdk-expect", "1.0.2", VersionStatus.Production, LabelExpectation.Absent, ct));
        Assert.Equal("1.0.0", first.Version);
        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (second.StatusCode, second.Code));
        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (promoteFirst.StatusCode, promoteFirst.Code));
        Assert.Equal(("1.0.0", "1.0.1"), ((await client.GetPromptAsync("sdk-expect", ct)).Labels["staging"], (await client.GetPromptAsync("sdk-expect", ct)).Labels[Label.Production]));
    }

    [Fact]
    public async Task Refusal_InvalidName_ThrowsWithStatusCodeAndField()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var client = CreateClient(http);

        var error = await Assert.ThrowsAsync<PromptVaultApiException>(() =>
            client.CreatePromptAsync(new CreatePromptRequest("Not A Valid Name", Content: "x"), TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("invalid_name", error.Code);
        Assert.Equal("name", error.Field);
        Assert.Contains("Not A Valid Name", error.Detail);
    }

    [Fact]
    public async Task Refusal_Unchanged_ThrowsVersionUnchanged()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var client = CreateClient(http);
        var ct = TestContext.Current.CancellationToken;
        await client.CreatePromptAsync(new CreatePromptRequest("sdk-same", Content: "Same {{who}}", Variables: Variables), ct);

        var error = await Assert.ThrowsAsync<PromptVaultApiException>(() =>
            client.CreateVersionAsync("sdk-same", new CreateVersionRequest("Same {{who}}", ChangeDescription: "again"), ct));

        Assert.Equal(HttpStatusCode.Conflict, error.StatusCode);
        Assert.Equal("version_unchanged", error.Code);
    }

    [Fact]
    public async Task Refusal_ReaderKeyCreatingAKey_ThrowsForbidden()
    {
        var ct = TestContext.Current.CancellationToken;
        var reader = await fixture.Server.CreateKeyAsync("sdk-reader", ApiKeyRole.Reader, ct);
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var client = CreateClient(http, reader);

        var error = await Assert.ThrowsAsync<PromptVaultApiException>(() => client.CreateKeyAsync("x", ApiKeyRole.Admin, ct));

        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Equal("forbidden", error.Code);
    }

    [Fact]
    public async Task Keys_CreateListRevoke()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var client = CreateClient(http);
        var ct = TestContext.Current.CancellationToken;

        var created = await client.CreateKeyAsync("sdk-writer", ApiKeyRole.Writer, ct);
        await client.RevokeKeyAsync(created.Id, ct);
        var keys = await client.ListKeysAsync(ct);
        var again = await Assert.ThrowsAsync<PromptVaultApiException>(() => client.RevokeKeyAsync(created.Id, ct));

        Assert.NotNull(Assert.Single(keys.Keys, k => k.Id == created.Id).RevokedAt);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("api_key_not_found", again.Code);
    }

    [Fact]
    public async Task Requests_BaseAddressWithPathAndSlashInName_KeepThePathAndEscapeTheName()
    {
        var handler = new RecordingHandler();
        using var http = new HttpClient(handler) { BaseAddress = new Uri("http://promptvault.test/registry") };
        var client = new PromptVaultClient(http, "pv_secret");

        var error = await Assert.ThrowsAsync<PromptVaultApiException>(() => client.GetVersionAsync("team/x", "1.0.0", TestContext.Current.CancellationToken));

        Assert.Equal("http://promptvault.test/registry/api/prompts/team%2Fx/versions/1.0.0", handler.Request!.RequestUri!.AbsoluteUri);
        Assert.Equal("Bearer pv_secret", handler.Request.Headers.Authorization!.ToString());
        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Equal("http_502", error.Code);
    }

    [Fact]
    public async Task CreateCalls_ResentByTheHttpPipeline_WriteOnce()
    {
        using var http = new HttpClient(new ResendingHandler { InnerHandler = new HttpClientHandler() }) { BaseAddress = fixture.Server.BaseAddress };
        var client = CreateClient(http);
        var ct = TestContext.Current.CancellationToken;

        var created = await client.CreatePromptAsync(new CreatePromptRequest("sdk-resent", Content: "A {{who}}", Variables: Variables), ct);
        var version = await client.CreateVersionAsync("sdk-resent", new CreateVersionRequest("B {{who}}", ChangeDescription: "B"), ct);
        var recorded = await client.RecordMetricsAsync(new MetricBatchRequest([new MetricEventRequest(VersionId: version.Id, LatencyMs: 5), new MetricEventRequest(VersionId: version.Id, LatencyMs: 7)]), ct);
        var versions = await client.ListVersionsAsync("sdk-resent", ct);
        var metrics = await client.GetVersionMetricsAsync("sdk-resent", "1.0.1", cancellationToken: ct);

        Assert.Equal("1.0.0", created.LatestVersion.Version);
        Assert.Equal(["1.0.1", "1.0.0"], versions.Versions.Select(v => v.Version));
        Assert.Equal(2, recorded.Stored);
        Assert.Equal(2, metrics.Summary.Count);
    }

    [Fact]
    public async Task CreateVersionAsync_RepeatedWithTheCallersKey_ReturnsTheFirstVersion()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        var client = CreateClient(http);
        var ct = TestContext.Current.CancellationToken;
        await client.CreatePromptAsync(new CreatePromptRequest("sdk-keyed", Content: "A {{who}}", Variables: Variables), ct);
        var request = new CreateVersionRequest("B {{who}}", ChangeDescription: "B");

        var first = await client.CreateVersionAsync("sdk-keyed", request, "deploy-42", ct);
        await client.CreateVersionAsync("sdk-keyed", new CreateVersionRequest("C {{who}}", ChangeDescription: "C"), ct);
        var repeated = await client.CreateVersionAsync("sdk-keyed", request, "deploy-42", ct);
        var reused = await Assert.ThrowsAsync<PromptVaultApiException>(() => client.CreateVersionAsync("sdk-keyed", request with { Content = "D {{who}}" }, "deploy-42", ct));

        Assert.Equal(JsonSerializer.Serialize(first, PromptVaultJson.Options), JsonSerializer.Serialize(repeated, PromptVaultJson.Options));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        Assert.Equal("idempotency_key_reused", reused.Code);
    }

    /// <summary>Sends every POST twice and returns the second answer, as a retry policy does when the first answer is lost.</summary>
    private sealed class ResendingHandler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post)
                (await base.SendAsync(request, cancellationToken)).Dispose();
            return await base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public HttpRequestMessage? Request { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Request = request;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>bad gateway</html>") });
        }
    }

    [Fact]
    public void Constructor_NoBaseAddress_Throws()
    {
        using var http = new HttpClient();

        Assert.Throws<ArgumentException>(() => new PromptVaultClient(http));
    }
}
