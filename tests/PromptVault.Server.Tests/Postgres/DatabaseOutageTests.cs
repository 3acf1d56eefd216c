using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using PromptVault.Server.Hosting;
using PromptVault.Server.Tests.Webhooks;
using PromptVault.Storage.Postgres;
using PromptVault.Storage.Testing;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Postgres;

/// <summary>A server whose PostgreSQL goes away and comes back: what its callers are told meanwhile, and that it recovers by itself.</summary>
public sealed class DatabaseOutageTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DatabaseUnreachable_EveryRequestAnswers503StoreUnavailableWithRetryAfter_AndTheServerRecoversWhenItIsBack()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var relay = new Relay(target.Host!, target.Port);
        target.Port = relay.Port;
        var (app, client) = await StartAsync(target.ConnectionString);
        await using var _ = app;
        using var __ = client;
        var name = await CreateSupportPromptAsync(client);
        var versionId = (await GetAsync(client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");

        await relay.CutAsync();
        // Authentication (a new key's lookup), a read, a write, a metric batch and the SDK snapshot each meet the database.
        using var other = new HttpClient { BaseAddress = client.BaseAddress };
        other.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "pv_notAKeyTheServerHasSeenBefore0000000000000");
        foreach (var (http, method, path, body) in new (HttpClient, HttpMethod, string, object?)[]
        {
            (other, HttpMethod.Get, "/api/prompts", null),
            (client, HttpMethod.Get, "/api/prompts", null),
            (client, HttpMethod.Post, "/api/prompts", SupportPrompt(UniqueName("outage"))),
            (client, HttpMethod.Post, "/api/metrics", new { versionId, latencyMs = 12.5 }),
            (client, HttpMethod.Get, "/api/sdk/snapshot", null),
        })
            await AssertStoreTroubleAsync(http, method, path, body, "store_unavailable", "The database could not be reached; retry the request.");

        relay.Resume();
        await Eventually(() => GetAsync(client, $"/api/prompts/{name}"), r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(10));
        var (status, stored) = await PostAsync(client, "/api/metrics", new { versionId, latencyMs = 12.5 });
        Assert.True(status == HttpStatusCode.OK, stored?.ToJsonString());
        Assert.Equal(1, stored!["stored"]!.GetValue<int>());
    }

    [Fact]
    public async Task DatabaseReadOnly_WritesAnswer503StoreReadOnly_ReadsWork_WritesWorkOnceItIsWritable()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        var (app, client) = await StartAsync(database.ConnectionString);
        await using var _ = app;
        using var __ = client;
        var name = await CreateSupportPromptAsync(client);
        var versionId = (await GetAsync(client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");
        var databaseName = new NpgsqlConnectionStringBuilder(database.ConnectionString).Database;
        // Opened before the change, so this session can turn it off again.
        await using var admin = new NpgsqlConnection(database.ConnectionString);
        await admin.OpenAsync(Cancel);
        await using (var on = new NpgsqlCommand($"ALTER DATABASE \"{databaseName}\" SET default_transaction_read_only = on", admin))
            await on.ExecuteNonQueryAsync(Cancel);
        app.Services.GetRequiredService<NpgsqlDataSource>().Clear(); // new sessions, as after a failover to a standby

        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Post, "/api/prompts", SupportPrompt(UniqueName("read-only"))),
            (HttpMethod.Post, "/api/metrics", new { versionId, latencyMs = 12.5 }),
        })
        {
            using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
            using var response = await client.SendAsync(request, Cancel);
            var text = await response.Content.ReadAsStringAsync(Cancel);
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{method} {path}: {(int)response.StatusCode} {text}");
            Assert.Contains("\"code\":\"store_read_only\"", text, StringComparison.Ordinal);
            Assert.Contains($"The PostgreSQL database '{databaseName}' cannot be written", text, StringComparison.Ordinal);
            Assert.Equal("30", response.Headers.RetryAfter?.ToString());
        }
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, $"/api/prompts/{name}")).Status);

        await using (var off = new NpgsqlCommand($"ALTER DATABASE \"{databaseName}\" SET default_transaction_read_only = off", admin))
            await off.ExecuteNonQueryAsync(Cancel);
        await CreateSupportPromptAsync(client);
        var (status, stored) = await PostAsync(client, "/api/metrics", new { versionId, latencyMs = 12.5 });
        Assert.True(status == HttpStatusCode.OK, stored?.ToJsonString());
    }

    [Fact]
    public async Task ConnectionPoolExhausted_Answers503StoreBusy_NotUnreachable_AndServesOnceAConnectionIsFree()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        // One pooled connection, waited for one second: a request that finds it taken is refused after that second.
        var settings = new NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxPoolSize = 1, Timeout = 1 };
        var (app, client) = await StartAsync(settings.ConnectionString);
        await using var _ = app;
        using var __ = client;
        await CreateSupportPromptAsync(client);

        await using (await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Cancel))
        {
            foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
            {
                (HttpMethod.Post, "/api/prompts", SupportPrompt(UniqueName("busy"))),
                (HttpMethod.Get, "/api/sdk/snapshot", null),
            })
                await AssertStoreTroubleAsync(client, method, path, body, "store_busy", "The database is busy; retry the request.");
        }

        await CreateSupportPromptAsync(client);
    }

    [Fact]
    public async Task DatabaseUnreachable_BackgroundLoopsSayItOnce_WithoutAStack_AndOnceWhenItIsBack()
    {
        // The dispatcher's back-off starts at its poll interval: at 100 ms it is back to trying about as often as the listener
        // when the database returns, not up to 4 s later.
        await using var server = await RelayedServer.StartAsync("--PromptVault:Webhooks:PollInterval=00:00:00.100");
        var (_, relay, logs, client) = (server.Database, server.Relay, server.Logs, server.Client);
        var name = await CreateSupportPromptAsync(client);

        await relay.CutAsync();
        var loops = new[] { typeof(PostgresRegistryChanges).FullName!, "PromptVault.Server.Webhooks.WebhookDispatcher" };
        // Until each loop has failed again after saying it (each further failed try is a debug line, event 3008).
        await Eventually(() => Task.FromResult(loops.Count(loop => logs.Lines.Count(l => l.Category == loop && l.EventId == 3008) >= 1)), n => n == 2,
            TimeSpan.FromSeconds(60));
        var during = logs.Lines.Where(l => l.Category.StartsWith("PromptVault", StringComparison.Ordinal) && l.Level >= LogLevel.Warning).ToList();
        var shown = string.Join("\n", during.Select(l => $"{l.Level} {l.Category}: {l.Message}"));
        // Each loop says it once, with the causes and no stack: no errors, no line a second.
        foreach (var loop in loops)
        {
            var line = Assert.Single(during, l => l.Category == loop);
            Assert.True(line.Level == LogLevel.Warning && SaysTheCausesInOneLine(line.Message) && line.Message.Contains("the database is not answering ("), shown);
        }
        Assert.True(during.Count == 2, shown);
        // Each says how often it tries again as it does: the listener every second (it is not backed off), the dispatcher backed off to 10 s.
        Assert.Contains("; trying again at most 1 s apart", Assert.Single(during, l => l.Category == loops[0]).Message, StringComparison.Ordinal);
        Assert.Contains("; trying again at most 10 s apart", Assert.Single(during, l => l.Category == loops[1]).Message, StringComparison.Ordinal);

        relay.Resume();
        await Eventually(() => Task.FromResult(logs.Lines.Count(l => l.EventId == 3006)), n => n == 2, TimeSpan.FromSeconds(20));
        Assert.Contains(logs.Lines, l => l is { Category: "PromptVault.Server.Webhooks.WebhookDispatcher", Level: LogLevel.Information }
            && l.Message.StartsWith("Webhook dispatch: the database works again", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, $"/api/prompts/{name}")).Status);
    }

    [Fact]
    public async Task DatabaseUnreachable_The503sLineSaysTheCausesInOneLine_WithoutAStack()
    {
        await using var server = await RelayedServer.StartAsync();
        var (relay, logs, client) = (server.Relay, server.Logs, server.Client);

        await relay.CutAsync();
        await AssertStoreTroubleAsync(client, HttpMethod.Get, "/api/prompts", null, "store_unavailable", "The database could not be reached; retry the request.");

        var line = Assert.Single(logs.Lines, l => l.EventId == 2301);
        Assert.True(line.Level == LogLevel.Warning && SaysTheCausesInOneLine(line.Message), line.Message);
        Assert.StartsWith("GET /api/prompts answered 503 store_unavailable for the database's trouble (" + UnreachableCause, line.Message, StringComparison.Ordinal);
        Assert.EndsWith("); 1 request(s) were answered so since this code's last line (one a minute at most)", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseUnreachable_LostRenderExposuresAreSaidOnce_WithoutAStack_AndOnceWhenTheyAreRecordedAgain()
    {
        await using var server = await RelayedServer.StartAsync();
        var (database, relay, logs, client) = (server.Database, server.Relay, server.Logs, server.Client);
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(client);
        var experimentId = (await Experiments.CreateAsync(client, Experiments.ThreeWay(name, versionIds))).Str("id");
        await Experiments.MoveAsync(client, experimentId, "start");

        // The experiment's lock, held beside the relay, stops the exposures' writer until the cut ends its connection.
        await using var holder = new NpgsqlConnection(database.ConnectionString);
        await holder.OpenAsync(Cancel);
        await using var hold = await holder.BeginTransactionAsync(Cancel);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('experiment:' || @id, 0))", holder, hold))
        {
            take.Parameters.AddWithValue("id", experimentId);
            await take.ExecuteNonQueryAsync(Cancel);
        }
        // unit-2 is rendered once the writer waits on unit-1's batch, so that it is queued behind that batch, not in it: the
        // writer takes whatever is queued when it wakes, and on a loaded host it may wake after both renders.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" }, unitId = "unit-1" })).Status);
        await Eventually(() => AdvisoryLockWaits.CountAsync(holder, hold), n => n == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" }, unitId = "unit-2" })).Status);

        await relay.CutAsync();
        // The blocked batch fails, then the one queued behind it: one warning, then a debug line.
        await Eventually(() => Task.FromResult(logs.Lines.Count(l => l.EventId == 3010)), n => n >= 1, TimeSpan.FromSeconds(20));
        var lost = logs.Lines.Where(l => l.EventId is 3001 or 3009).ToList();
        var shown = string.Join("\n", lost.Select(l => $"{l.Level} {l.EventId}: {l.Message}"));
        var line = Assert.Single(lost);
        Assert.True(line is { EventId: 3009, Level: LogLevel.Warning } && SaysTheCausesInOneLine(line.Message)
            && line.Message.StartsWith("1 render exposures were not recorded: the database is not answering (" + UnreachableCause, StringComparison.Ordinal), shown);

        await hold.RollbackAsync(Cancel);
        relay.Resume();
        await Eventually(() => PostAsync(client, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" }, unitId = "unit-3" }),
            r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(10));
        await Eventually(() => Task.FromResult(logs.Lines.Count(l => l.EventId == 3011)), n => n == 1, TimeSpan.FromSeconds(10));
        Assert.Equal("Render exposures are recorded again, after 2 were not", Assert.Single(logs.Lines, l => l.EventId == 3011).Message);
    }

    [Fact]
    public async Task Healthz_PoolExhaustedIsDegradedBusy_AnOutageIsUnhealthyUnreachable_AndHealthyWhenItIsBack()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxPoolSize = 1, Timeout = 1 };
        await using var relay = new Relay(target.Host!, target.Port);
        target.Port = relay.Port;
        var (app, client) = await StartAsync(target.ConnectionString);
        await using var _ = app;
        using var __ = client;
        using var anonymous = new HttpClient { BaseAddress = client.BaseAddress };

        await using (await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Cancel))
            await AssertHealthAsync(anonymous, HttpStatusCode.OK, "degraded", "the database is busy: no connection was free in time; the server log has the error");
        await relay.CutAsync();
        await AssertHealthAsync(anonymous, HttpStatusCode.ServiceUnavailable, "unhealthy", "the database could not be reached; the server log has the error");
        relay.Resume();
        await Eventually(() => anonymous.GetAsync("/healthz", Cancel), r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10));
        await AssertHealthAsync(anonymous, HttpStatusCode.OK, "ok", null);
    }

    private static async Task AssertHealthAsync(HttpClient anonymous, HttpStatusCode expected, string status, string? description)
    {
        using var response = await anonymous.GetAsync("/healthz", Cancel);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel));
        Assert.True(response.StatusCode == expected, body?.ToJsonString());
        Assert.Equal(status, body.Str("status"));
        Assert.Equal(status == "ok" ? "healthy" : status, body!["checks"]!["database"].Str("status"));
        Assert.Equal(description, body["checks"]!["database"]!["description"]?.GetValue<string>());
    }

    [Fact]
    public async Task DatabaseUnreachable_WebhookSendsInFlight_SayTheyWereNotRecorded_InAWarningWithoutAStack()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var relay = new Relay(target.Host!, target.Port);
        target.Port = relay.Port;
        using var logs = new LogCapture();
        var (app, client) = await StartAsync(target.ConnectionString,
            logs.Setup([.. WebhookTests.FastRetries, "--PromptVault:Webhooks:Timeout=00:01:00", "--PromptVault:Webhooks:LeaseDuration=00:10:00",
                "--Logging:LogLevel:Default=None"]));
        await using var _ = app;
        using var __ = client;
        // One receiver answers 200 once released, the other not before the server stops: both sends are in flight at the cut.
        var answer = new TaskCompletionSource();
        await using var answered = await WebhookReceiver.StartAsync(cancellationToken: Cancel);
        await using var hanging = await WebhookReceiver.StartAsync(cancellationToken: Cancel);
        (answered.Gate, hanging.Hang) = (answer.Task, true);
        await WebhookTests.CreateWebhookAsync(client, answered, "version.created");
        await WebhookTests.CreateWebhookAsync(client, hanging, "version.created");
        await CreateSupportPromptAsync(client);
        var sent = await answered.Received.ReadAsync(Cancel);
        var held = await hanging.Received.ReadAsync(Cancel);

        await relay.CutAsync();
        answer.SetResult();
        await Eventually(() => Task.FromResult(logs.Lines.Count(l => l.EventId == 2104)), n => n == 1, TimeSpan.FromSeconds(10));
        await app.StopAsync(Cancel);

        var lines = logs.Lines.Where(l => l.Category == "PromptVault.Server.Webhooks.WebhookDispatcher" && l.Level >= LogLevel.Warning).ToList();
        var shown = string.Join("\n", lines.Select(l => $"{l.Level} {l.EventId}: {l.Message}"));
        Assert.True(lines.All(l => l.Level == LogLevel.Warning && SaysTheCausesInOneLine(l.Message)), shown);
        Assert.Contains(lines, l => l.EventId == 2104
            && l.Message.StartsWith($"Webhook delivery {sent.DeliveryId}: attempt 1 was sent but could not be recorded ({UnreachableCause}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EventId == 2105
            && l.Message.StartsWith($"Webhook delivery {held.DeliveryId} was not sent, and its lease could not be given back ({UnreachableCause}", StringComparison.Ordinal));
    }

    /// <summary>
    /// How a line of the store's trouble starts its causes when PostgreSQL cannot be reached: the store's exception first, then
    /// the driver's, whose words the store's message does not quote again.
    /// </summary>
    private const string UnreachableCause = "StoreUnavailableException: The PostgreSQL database could not be reached; retry the request. ---> NpgsqlException: ";

    /// <summary>
    /// Whether a line of the store's trouble says its causes, the store's exception and the driver's under it (where the
    /// driver's first inner message alone was said, the store's went unsaid), in one line: no stack.
    /// </summary>
    private static bool SaysTheCausesInOneLine(string message) =>
        !message.Contains('\n') && message.Contains(UnreachableCause, StringComparison.Ordinal);

    /// <summary>A server on the PostgreSQL database of <paramref name="connectionString"/>, migrated, with a client holding its first admin key.</summary>
    private static async Task<(WebApplication App, HttpClient Client)> StartAsync(string connectionString, ServerSetup? setup = null)
    {
        setup ??= new ServerSetup(["--Logging:LogLevel:Default=None"]);
        var app = PromptVaultServer.Build(new ServerOptions { Postgres = connectionString, Urls = "http://127.0.0.1:0" }, setup.Settings, setup.Configure);
        var admin = await app.StartOrDisposeAsync(async () =>
        {
            await PromptVaultServer.MigrateAsync(app, Cancel);
            return (await PromptVaultServer.CreateFirstAdminKeyAsync(app, Cancel))!;
        }, Cancel);
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin.Key);
        return (app, client);
    }

    /// <summary>Sends a request and checks it is answered 503 with <paramref name="code"/>, <paramref name="detail"/> and Retry-After: 1.</summary>
    private static async Task AssertStoreTroubleAsync(HttpClient http, HttpMethod method, string path, object? body, string code, string detail)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await http.SendAsync(request, Cancel);
        var text = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{method} {path}: {(int)response.StatusCode} {text}");
        Assert.Contains($"\"code\":\"{code}\"", text);
        Assert.Contains(detail, text);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
    }

    /// <summary>A server on a new database reached through a <see cref="Relay"/>, its PromptVault categories logged down to Debug.</summary>
    private sealed class RelayedServer : IAsyncDisposable
    {
        private RelayedServer(PostgresTestDatabase database, Relay relay, LogCapture logs) => (Database, Relay, Logs) = (database, relay, logs);

        public PostgresTestDatabase Database { get; }
        public Relay Relay { get; }
        public LogCapture Logs { get; }
        public HttpClient Client { get; private set; } = null!;
        private WebApplication? _app;

        public static async Task<RelayedServer> StartAsync(params string[] settings)
        {
            var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
            var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
            var server = new RelayedServer(database, new Relay(target.Host!, target.Port), new LogCapture());
            target.Port = server.Relay.Port;
            try
            {
                (server._app, server.Client) = await DatabaseOutageTests.StartAsync(target.ConnectionString,
                    server.Logs.Setup(["--Logging:LogLevel:Default=None", "--Logging:LogLevel:PromptVault=Debug", .. settings]));
                return server;
            }
            catch
            {
                // The relay listens and the database exists already.
                await server.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            Client?.Dispose();
            if (_app is not null) await _app.DisposeAsync();
            await Relay.DisposeAsync();
            Logs.Dispose();
            await Database.DisposeAsync();
        }
    }
}
