using System.Diagnostics;
using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PromptVault.Core.Contracts;
using PromptVault.Server.Api;
using PromptVault.Server.Hosting;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary><c>GET /api/sdk/stream</c> (SPEC §8): server-sent <c>snapshot</c> events over a real Kestrel connection.</summary>
public sealed class SdkStreamTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task OnConnect_TheCurrentSnapshot_ThenALabelMoveAsItHappens_NotAtTheNextKeepAlive()
    {
        var name = await CreateSupportPromptAsync(_client);
        var keepAlive = fixture.Server.Services.GetRequiredService<IOptions<SdkStreamOptions>>().Value.KeepAliveInterval;
        // Unheard, the change would be sent only when the stream wakes for its keep-alive, a whole interval after its first
        // event, so after this much time. The bound is that interval, not a second (which a loaded machine's PUT could take).
        var opened = Stopwatch.StartNew();
        await using var stream = await SnapshotStream.OpenAsync(_client);

        var first = await stream.NextAsync();
        var (current, etag) = await SdkSnapshotTests.GetSnapshotAsync(_client);
        Assert.Equal((current.Sequence, etag.Tag), (first.Sequence, first.ETag));

        var (status, _) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        Assert.Equal(HttpStatusCode.OK, status);
        var next = await stream.NextAsync();
        opened.Stop();

        Assert.True(opened.Elapsed < keepAlive, $"the event came {opened.Elapsed} after the stream opened (keep-alive interval {keepAlive})");
        var (after, afterTag) = await SdkSnapshotTests.GetSnapshotAsync(_client);
        Assert.True(next.Sequence > first.Sequence);
        Assert.Equal((after.Sequence, afterTag.Tag), (next.Sequence, next.ETag));
        Assert.Equal("1.0.0", after.Prompts.Single(p => p.Name == name).Versions.Single().Version);
    }

    [Fact]
    public async Task ABurstOfChanges_EndsWithTheEventOfTheLastSnapshot()
    {
        var name = await CreateSupportPromptAsync(_client);
        await using var stream = await SnapshotStream.OpenAsync(_client);
        await stream.NextAsync();

        for (var i = 0; i < 5; i++)
            await NewVersionAsync(_client, name, new { content = $"v{i} {{{{company_name}}}}", changeDescription = "burst" });
        var (last, _) = await SdkSnapshotTests.GetSnapshotAsync(_client);

        var events = 0;
        SdkSnapshotEvent seen;
        do
        {
            seen = await stream.NextAsync();
            events++;
        }
        while (seen.Sequence < last.Sequence);
        Assert.Equal(last.Sequence, seen.Sequence);
        Assert.InRange(events, 1, 5);
    }

    [Fact]
    public async Task ADisconnectedClient_FreesItsSubscription()
    {
        // A server of its own: the shared one's count moves as the other tests' streams open and close.
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var snapshots = server.Services.GetRequiredService<SdkSnapshots>();
        var stream = await SnapshotStream.OpenAsync(client);
        await stream.NextAsync();
        Assert.Equal(1, snapshots.WatcherCount);

        await stream.DisposeAsync();

        // The server learns of the closed connection asynchronously (a 5 s budget was one a loaded machine could break).
        Assert.Equal(0, await Eventually(() => Task.FromResult(snapshots.WatcherCount), count => count == 0));
    }

    [Fact]
    public async Task StoppingTheServer_EndsAnOpenStream_WithoutWaitingForIt()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        await using var stream = await SnapshotStream.OpenAsync(client);
        await stream.NextAsync();

        var stopping = Stopwatch.StartNew();
        await server.DisposeAsync();
        stopping.Stop();

        // Kestrel would otherwise wait for the request until the host's shutdown timeout (30 s) and then abort it.
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {stopping.Elapsed}");
        Assert.False(await stream.TryNextAsync(), "the stream should have ended");
    }

    [Fact]
    public async Task AQuietStream_SendsKeepAliveComments()
    {
        await using var server = await RunningServer.StartAsync(new ServerSetup(["--PromptVault:Sdk:KeepAliveInterval=00:00:00.100"]), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        using var response = await client.GetAsync("/api/sdk/stream", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));

        var lines = new List<string>();
        while (lines.Count(l => l == ": keep-alive") < 2)
            lines.Add(await reader.ReadLineAsync(TestContext.Current.CancellationToken) ?? throw new InvalidOperationException("the stream ended"));

        Assert.Equal("event: snapshot", lines[0]);
        Assert.StartsWith("data: {\"sequence\":", lines[1]);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("100.00:00:00")]
    public void AKeepAliveIntervalOutOfRange_StopsStartUp_NamingIt(string interval)
    {
        var options = new ServerOptions { DatabasePath = Path.Combine(Path.GetTempPath(), "unused.db"), Urls = "http://127.0.0.1:0" };

        var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(options, [$"--PromptVault:Sdk:KeepAliveInterval={interval}"]));

        Assert.Contains("PromptVault:Sdk:KeepAliveInterval must be a positive time span up to 01:00:00", error.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text/event-stream")] // as the SDK asks: still 401, not 500 (BadInputTests checks its problem document)
    public async Task TheStream_NeedsAKey(string? accept)
    {
        using var anonymous = fixture.Server.CreateClient("");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/sdk/stream");
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        using var response = await anonymous.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task RevokingTheStreamsKey_EndsTheStream_WhileAnotherKeysStreamGoesOn()
    {
        var name = await CreateSupportPromptAsync(_client);
        var (_, created) = await PostAsync(_client, "/api/keys", new { name = "sdk-stream", role = "reader" });
        using var revokedClient = fixture.Server.CreateClient(created.Str("key"));
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        reading.CancelAfter(TimeSpan.FromSeconds(30));
        await using var revoked = await SnapshotStream.OpenAsync(revokedClient, reading.Token);
        await using var other = await SnapshotStream.OpenAsync(_client);
        await revoked.NextAsync();
        var before = await other.NextAsync();

        var (revoke, _) = await SendAsync(_client, HttpMethod.Delete, $"/api/keys/{created.Str("id")}");
        Assert.Equal(HttpStatusCode.NoContent, revoke);

        Assert.False(await revoked.TryNextAsync(), "the revoked key's stream should have ended");
        Assert.False(reading.IsCancellationRequested, "the revoked key's stream was still open after 30 s");
        var (moved, _) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        Assert.Equal(HttpStatusCode.OK, moved);
        Assert.True((await other.NextAsync()).Sequence > before.Sequence);
    }

    /// <summary>An open <c>GET /api/sdk/stream</c> response read with the framework's SSE parser.</summary>
    internal sealed class SnapshotStream(HttpResponseMessage response, IAsyncEnumerator<SseItem<SdkSnapshotEvent>> events) : IAsyncDisposable
    {
        /// <param name="reading">Ends a pending read (a reader on another thread must end before the stream is disposed).</param>
        public static async Task<SnapshotStream> OpenAsync(HttpClient client, CancellationToken? reading = null)
        {
            var response = await client.GetAsync("/api/sdk/stream", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
            var parser = SseParser.Create(body, (type, data) => JsonSerializer.Deserialize<SdkSnapshotEvent>(data, PromptVaultJson.Options)!);
            var token = reading ?? TestContext.Current.CancellationToken;
            return new SnapshotStream(response, parser.EnumerateAsync(token).GetAsyncEnumerator(token));
        }

        public SdkSnapshotEvent Current => events.Current.Data;

        public async Task<SdkSnapshotEvent> NextAsync()
        {
            Assert.True(await TryNextAsync(), "the stream ended");
            return events.Current.Data;
        }

        public async Task<bool> TryNextAsync()
        {
            try
            {
                if (!await events.MoveNextAsync())
                    return false;
            }
            catch (IOException)
            {
                return false;
            }
            Assert.Equal(SdkApi.SnapshotEventType, events.Current.EventType);
            Assert.Equal(events.Current.Data.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), events.Current.EventId);
            return true;
        }

        public async ValueTask DisposeAsync()
        {
            await events.DisposeAsync();
            response.Dispose();
        }
    }
}
