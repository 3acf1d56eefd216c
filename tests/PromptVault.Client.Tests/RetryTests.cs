using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Polly.Timeout;
using PromptVault.Core.Auth;
using PromptVault.Core.Evaluations;
using PromptVault.Server.Tests;

namespace PromptVault.Client.Tests;

/// <summary>The SDK's HTTP client retries only what can be sent twice, and lets an evaluation run as long as it takes.</summary>
/// <remarks>The tests share one server, each with prompts, keys and webhooks of its own, and a proxy of its own in front of it.</remarks>
public sealed class RetryTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    private SdkServer Server => fixture.Server;

    [Fact]
    public async Task EvaluateAsync_RunLongerThanTheRequestTimeout_CompletesOnceAndStoresOneRun()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var model = await FakeModelServer.StartAsync(ct);
        model.Delay = TimeSpan.FromSeconds(1.5);
        await using var server = await SdkServer.StartAsync( // its own: configured with the model
        [
            $"--PromptVault:Models:default:Endpoint={model.Endpoint}",
            "--PromptVault:Models:default:Model=gpt-4o-mini",
            "--PromptVault:Models:default:MaxRetries=0",
        ], ct);
        var name = Prompts.NewName("slow-eval");
        await Prompts.CreateAsync(server.Api, name, "Say hello.", cancellationToken: ct);
        await server.Api.PutTestsAsync(name, "1.0.0", new VersionTests(
            [new TestCase("greets", Expect: [new TestExpectation(CheckTypes.Contains, JsonSerializer.SerializeToElement("answer to"), CheckTypes.OutputTarget)])]), ct);
        // The model's one answer takes longer than the whole request timeout (and three times the attempt timeout).
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o =>
        {
            o.UseStream = false;
            o.RequestTimeout = TimeSpan.FromSeconds(1);
        }, cancellationToken: ct);

        var client = host.Services.GetRequiredService<PromptVaultClient>();
        var run = await client.EvaluateAsync(name, "1.0.0", ct);

        Assert.Equal(EvaluationStatus.Passed, run.Status);
        Assert.Single(model.Requests);
        var runs = await client.ListEvaluationsAsync(name, "1.0.0", ct);
        Assert.Equal(run.Id, Assert.Single(runs.Evaluations).Id);
        Assert.Equal(1, runs.Total);
    }

    [Fact]
    public async Task ImportAndExport_AnswerSlowerThanTheRequestTimeout_CompleteAndImportOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var source = Server;
        var name = Prompts.NewName("moved");
        await Prompts.CreateAsync(source.Api, name, "hello", cancellationToken: ct);
        await using var target = await SdkServer.StartAsync(ct); // its own: the import goes into it
        await using var proxy = await LossyProxy.StartAsync(target.BaseAddress, ct);
        // The SDK runs on a clock the test moves: while the proxy holds each answer, the clock passes the whole request
        // timeout (and three times the attempt timeout), so any timeout on these calls fires before the answer comes.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        proxy.WhileHoldingAnswer = request =>
        {
            if (request.Path is "/api/import" or "/api/export" || request.Path.StartsWith("/api/prompts/", StringComparison.Ordinal))
                clock.Advance(TimeSpan.FromSeconds(4.5));
        };
        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, target.AdminKey, o =>
        {
            o.UseStream = false;
            o.RequestTimeout = TimeSpan.FromSeconds(3);
        }, services => services.AddSingleton<TimeProvider>(clock), ct);
        var client = host.Services.GetRequiredService<PromptVaultClient>();
        using var document = new MemoryStream();
        await source.Api.ExportAsync(document, ct);
        document.Position = 0;

        await client.ImportAsync(document, merge: true, ct);
        using var exported = new MemoryStream();
        await client.ExportAsync(exported, ct);

        Assert.Single(proxy.Forwarded, request => request.Path == "/api/import");
        Assert.Single((await target.Api.ListVersionsAsync(name, ct)).Versions);
        Assert.Contains(name, System.Text.Encoding.UTF8.GetString(exported.ToArray()), StringComparison.Ordinal);
        // The clock does drive the SDK's timeouts: an ordinary call held the same way times out.
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => client.GetPromptAsync(name, ct));
    }

    [Fact]
    public async Task CreateKeyAsync_AnswerLostAfterTheServerActed_SentOnceAndTheFailureReachesTheCaller()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = Server;
        await using var proxy = await LossyProxy.StartAsync(server.BaseAddress, ct);
        proxy.LoseAnswer = request => request.Method == "POST";
        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var client = host.Services.GetRequiredService<PromptVaultClient>();
        var keyName = Prompts.NewName("key");

        await Assert.ThrowsAsync<HttpRequestException>(() => client.CreateKeyAsync(keyName, ApiKeyRole.Reader, ct));

        Assert.Single(proxy.Forwarded, request => request.Path == "/api/keys");
        Assert.Single((await server.Api.ListKeysAsync(ct)).Keys, key => key.Name == keyName);
    }

    [Fact]
    public async Task CreatePromptAsync_AnswerLostOnce_RetriedWithItsIdempotencyKeyAndStoredOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = Server;
        await using var proxy = await LossyProxy.StartAsync(server.BaseAddress, ct);
        var lost = 0;
        proxy.LoseAnswer = request => request.Path == "/api/prompts" && Interlocked.Increment(ref lost) == 1;
        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var name = Prompts.NewName("kept");

        var created = await host.Services.GetRequiredService<PromptVaultClient>()
            .CreatePromptAsync(new Core.Contracts.CreatePromptRequest(name, Content: "hello"), ct);

        var posts = proxy.Forwarded.Where(request => request.Path == "/api/prompts").ToList();
        Assert.Equal(2, posts.Count);
        Assert.Equal(posts[0].IdempotencyKey, posts[1].IdempotencyKey);
        Assert.Equal(created.LatestVersion.Id, Assert.Single((await server.Api.ListVersionsAsync(name, ct)).Versions).Id);
    }

    [Fact]
    public async Task MoveLabelPutTestsAndDeletes_AnswerLostAfterTheServerActed_RetriedAndTheServerShowsOneChangeEach()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = Server;
        await using var proxy = await LossyProxy.StartAsync(server.BaseAddress, ct);
        var lost = new ConcurrentDictionary<string, bool>();
        proxy.LoseAnswer = request => request.Method is "PUT" or "DELETE" && lost.TryAdd(request.Method + request.Path, true);
        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var client = host.Services.GetRequiredService<PromptVaultClient>();
        var name = Prompts.NewName("changed-once");
        await Prompts.CreateAsync(server.Api, name, "hello", cancellationToken: ct);
        var webhook = await server.Api.CreateWebhookAsync("https://hooks.example.com/pv", ["label.moved"], ct);
        var key = await server.Api.CreateKeyAsync(Prompts.NewName("key"), ApiKeyRole.Reader, ct);

        // A repeated move finds the label where the first attempt put it, a repeated tests PUT the cases it set; a repeated
        // delete's 404 is the call's success.
        var moved = await client.MoveLabelAsync(name, "staging", "1.0.0", ct);
        var tests = await client.PutTestsAsync(name, "1.0.0", new VersionTests(
            [new TestCase("greets", Expect: [new TestExpectation(CheckTypes.Contains, JsonSerializer.SerializeToElement("hello"))])]), ct);
        await client.RemoveLabelAsync(name, "staging", ct);
        await client.DeleteWebhookAsync(webhook.Id, ct);
        await client.RevokeKeyAsync(key.Id, ct);

        Assert.Equal("1.0.0", moved.Version.ToString());
        Assert.Equal("greets", Assert.Single(tests.Tests!).Name);
        Assert.Equal(4, proxy.Forwarded.Count(request => request.Method == "PUT"));
        var deletes = proxy.Forwarded.Where(request => request.Method == "DELETE").ToList();
        Assert.Equal(6, deletes.Count);
        Assert.Equal(3, deletes.Count(request => request.Status == 404));
        var audit = (await server.Api.ListAuditAsync(name, ct)).Entries;
        Assert.Single(audit, entry => entry.Action == Core.Audit.AuditActions.LabelMoved);
        Assert.Single(audit, entry => entry.Action == Core.Audit.AuditActions.LabelRemoved);
        Assert.Single(audit, entry => entry.Action == Core.Audit.AuditActions.TestsChanged);
        Assert.DoesNotContain((await server.Api.ListWebhooksAsync(ct)).Webhooks, w => w.Id == webhook.Id);
        Assert.NotNull(Assert.Single((await server.Api.ListKeysAsync(ct)).Keys, k => k.Id == key.Id).RevokedAt);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task MoveOrRemoveLabel_AnotherMoveBetweenTheAttempts_TheRetryIsRefusedAndLeavesTheirMove(string method)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var setup = await TwoVersionsBehindAProxy.StartAsync(Server, "moved-back", ct);
        var (server, proxy, name, other) = setup;
        if (method == "DELETE") await server.Api.MoveLabelAsync(name, "staging", "1.0.0", ct);
        // The first attempt (moving the label to 1.0.0, or removing it) is carried out and its answer lost; before the retry,
        // someone else moves the label.
        var first = 0;
        proxy.LoseAnswer = request =>
        {
            if (request.Method != method || Interlocked.Increment(ref first) != 1) return false;
            server.Api.MoveLabelAsync(name, "staging", other, ct).GetAwaiter().GetResult();
            return true;
        };
        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var client = host.Services.GetRequiredService<PromptVaultClient>();

        var refused = await Assert.ThrowsAsync<PromptVaultApiException>(() => method == "PUT"
            ? client.MoveLabelAsync(name, "staging", "1.0.0", ct)
            : client.RemoveLabelAsync(name, "staging", ct));

        // The retry expected the label where its first attempt left it (If-Match), found the other's move, and left it.
        Assert.Equal("label_moved", refused.Code);
        Assert.Contains($"points at version {other}", refused.Message);
        Assert.Equal(other, (await server.Api.GetPromptAsync(name, ct)).Labels["staging"]);
        Assert.Equal(2, (await server.Api.ListAuditAsync(name, ct)).Entries.Count(entry => entry.Action == Core.Audit.AuditActions.LabelMoved));
    }

    [Fact]
    public async Task MoveLabelWithAnExpectedVersion_FirstAttemptMayHaveActedButDidNot_TheRetryStillMovesFromTheExpectedVersion()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var setup = await TwoVersionsBehindAProxy.StartAsync(Server, "not-acted", ct);
        var (server, proxy, name, target) = setup;
        await server.Api.MoveLabelAsync(name, "staging", "1.0.0", ct);
        // A 502 the proxy gives without forwarding: to the client the first attempt may have acted; it did not.
        var first = 0;
        proxy.AnswerInstead = (request, _) => request.Method == "PUT" && Interlocked.Increment(ref first) == 1 ? (502, null) : null;
        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var client = host.Services.GetRequiredService<PromptVaultClient>();

        // The retry's If-Match lists the expected version and the target: the label is at one of them whether or not the first acted.
        var moved = await client.MoveLabelAsync(name, "staging", target, expectedFrom: "1.0.0", ct);

        Assert.Equal(target, moved.Version);
        Assert.Equal(target, (await server.Api.GetPromptAsync(name, ct)).Labels["staging"]);
        Assert.Equal(2, (await server.Api.ListAuditAsync(name, ct)).Entries.Count(entry => entry.Action == Core.Audit.AuditActions.LabelMoved));
    }

    [Theory]
    [InlineData("acted, answer lost")]
    [InlineData("not acted, 502")]
    [InlineData("someone else set it")]
    public async Task MoveLabelExpectedUnset_FirstAttemptMayHaveActed_TheRetrySetsItOnceOrLeavesTheirs(string scenario)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var setup = await TwoVersionsBehindAProxy.StartAsync(Server, "first-deploy", ct);
        var (server, proxy, name, other) = setup;
        var first = 0;
        if (scenario == "not acted, 502")
            proxy.AnswerInstead = (request, _) => request.Method == "PUT" && Interlocked.Increment(ref first) == 1 ? (502, null) : null;
        else
            proxy.LoseAnswer = request =>
            {
                if (request.Method != "PUT" || Interlocked.Increment(ref first) != 1) return false;
                if (scenario == "someone else set it")
                {
                    server.Api.RemoveLabelAsync(name, "staging", ct).GetAwaiter().GetResult();
                    server.Api.MoveLabelAsync(name, "staging", other, ct).GetAwaiter().GetResult();
                }
                return true;
            };
        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var client = host.Services.GetRequiredService<PromptVaultClient>();

        var move = client.MoveLabelAsync(name, "staging", "1.0.0", Core.Prompts.LabelExpectation.Absent, ct);

        // The retry is sent as it was (only if unset), and when refused, expecting the label where this call sets it.
        if (scenario == "someone else set it")
        {
            var refused = await Assert.ThrowsAsync<PromptVaultApiException>(() => move);
            Assert.Equal("label_moved", refused.Code);
            // In the terms of the call (only if unset), not of the retry's If-Match ("If-Match expects it at 1.0.0").
            Assert.Equal($"label 'staging' of '{name}' was not set when this call began, but its first attempt's answer was lost and someone else set the label "
                + $"to version {other} before the retry; it is left as they put it.", refused.Message);
            Assert.Equal(other, (await server.Api.GetPromptAsync(name, ct)).Labels["staging"]);
            return;
        }
        Assert.Equal("1.0.0", (await move).Version.ToString());
        Assert.Equal("1.0.0", (await server.Api.GetPromptAsync(name, ct)).Labels["staging"]);
        Assert.Single((await server.Api.ListAuditAsync(name, ct)).Entries, entry => entry.Action == Core.Audit.AuditActions.LabelMoved);
    }

    [Fact]
    public async Task DeleteCalls_NothingToDeleteOnTheFirstAttempt_StayNotFound()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = Server;
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var client = host.Services.GetRequiredService<PromptVaultClient>();

        var refused = await Assert.ThrowsAsync<PromptVaultApiException>(() => client.DeleteWebhookAsync("no-such-webhook", ct));

        Assert.Equal("webhook_not_found", refused.Code);
    }

    /// <summary>The shared server behind a proxy of the test's own, with prompt <paramref name="Name"/> at 1.0.0 and at <paramref name="Second"/>.</summary>
    private sealed record TwoVersionsBehindAProxy(SdkServer Server, LossyProxy Proxy, string Name, string Second) : IAsyncDisposable
    {
        public static async Task<TwoVersionsBehindAProxy> StartAsync(SdkServer server, string prefix, CancellationToken ct)
        {
            var proxy = await LossyProxy.StartAsync(server.BaseAddress, ct);
            var name = Prompts.NewName(prefix);
            await Prompts.CreateAsync(server.Api, name, "hello", cancellationToken: ct);
            var second = (await server.Api.CreateVersionAsync(name, new Core.Contracts.CreateVersionRequest("hi", ChangeDescription: "test"), ct)).Version.ToString();
            return new TwoVersionsBehindAProxy(server, proxy, name, second);
        }

        public ValueTask DisposeAsync() => Proxy.DisposeAsync();
    }
}
