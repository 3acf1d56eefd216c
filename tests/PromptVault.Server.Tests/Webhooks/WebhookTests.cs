using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Webhooks;

/// <summary>Webhooks end to end (issue 13): a real server on SQLite posting to a real receiver on loopback, which checks every signature.</summary>
public sealed class WebhookTests
{
    /// <summary>Short retries, so a test sees several attempts within seconds; the receivers are on loopback.</summary>
    public static readonly string[] FastRetries =
    [
        "--PromptVault:Webhooks:AllowLoopback=true",
        "--PromptVault:Webhooks:InitialBackoff=00:00:00.200",
        "--PromptVault:Webhooks:MaxBackoff=00:00:01",
        "--PromptVault:Webhooks:PollInterval=00:00:00.100",
        "--PromptVault:Webhooks:Timeout=00:00:02",
        "--PromptVault:Webhooks:LeaseDuration=00:00:05",
        "--PromptVault:Webhooks:MaxAttempts=50",
    ];

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Create_BadUrlOrUnknownEvent_Returns400NamingIt_AndNonAdminsAreRefused()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var admin = server.CreateClient();
        using var writer = server.CreateClient(await server.CreateKeyAsync("writer", Core.Auth.ApiKeyRole.Writer, TestContext.Current.CancellationToken));

        var (ftp, ftpBody) = await PostAsync(admin, "/api/webhooks", new { url = "ftp://example.com/x", events = new[] { "version.created" } });
        var (relative, _) = await PostAsync(admin, "/api/webhooks", new { url = "/hook", events = new[] { "version.created" } });
        var (unknown, unknownBody) = await PostAsync(admin, "/api/webhooks", new { url = "http://127.0.0.1:1/hook", events = new[] { "version.created", "prompt.deleted" } });
        var (forbidden, _) = await PostAsync(writer, "/api/webhooks", new { url = "http://127.0.0.1:1/hook", events = new[] { "version.created" } });
        var (missing, _) = await GetAsync(admin, "/api/webhooks/nope/deliveries");

        Assert.Equal(HttpStatusCode.BadRequest, ftp);
        Assert.Equal("invalid_url", ftpBody.Str("code"));
        Assert.Contains("ftp://example.com/x", ftpBody.Str("detail"));
        Assert.Equal(HttpStatusCode.BadRequest, relative);
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Equal("unknown_event", unknownBody.Str("code"));
        Assert.Contains("prompt.deleted", unknownBody.Str("detail"));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);
        Assert.Equal(HttpStatusCode.NotFound, missing);
    }

    [Fact]
    public async Task AuditOfAWebhook_ReadByAReaderKey_ShowsItsOriginNotTheTokenInItsUrl()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var admin = server.CreateClient();
        using var reader = server.CreateClient(await server.CreateKeyAsync("reader", Core.Auth.ApiKeyRole.Reader, TestContext.Current.CancellationToken));
        // Where a Slack or Discord webhook keeps its token: in the path.
        var (created, webhook) = await PostAsync(admin, "/api/webhooks",
            new { url = "https://hooks.example.com:8443/services/T0/B0/secret-token?sig=also-secret", events = new[] { "version.created" } });
        var (deleted, _) = await SendAsync(admin, HttpMethod.Delete, $"/api/webhooks/{webhook.Str("id")}");

        var (status, audit) = await GetAsync(reader, "/api/audit");

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.NoContent, HttpStatusCode.OK), (created, deleted, status));
        Assert.DoesNotContain("secret", audit!.ToJsonString());
        var entries = audit["entries"]!.AsArray();
        var (add, remove) = (entries.Single(e => e.Str("action") == "webhook.created"), entries.Single(e => e.Str("action") == "webhook.deleted"));
        Assert.Equal("https://hooks.example.com:8443", add!["after"].Str("origin"));
        Assert.Equal("https://hooks.example.com:8443", remove!["before"].Str("origin"));
    }

    [Fact]
    public async Task EveryEventKind_IsDeliveredSigned_AndCreateListGetDeleteWork()
    {
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup(FastRetries), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var webhook = await CreateWebhookAsync(client, receiver, "version.created", "label.moved", "experiment.started", "experiment.paused", "experiment.completed");

        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(client);
        var experiment = await Experiments.CreateAsync(client, Experiments.ThreeWay(name, versionIds));
        var id = experiment.Str("id");
        await Experiments.MoveAsync(client, id, "start");
        await Experiments.MoveAsync(client, id, "pause");
        await Experiments.MoveAsync(client, id, "complete");
        var received = new List<ReceivedDelivery>();
        while (received.Count < 7) received.Add(await receiver.NextAcceptedAsync(Wait));

        Assert.All(received, r => Assert.True(r.SignatureValid, $"bad signature on {r.Body}"));
        Assert.Equal(["version.created", "label.moved", "version.created", "version.created", "experiment.started", "experiment.paused", "experiment.completed"],
            received.OrderBy(r => r.DeliveryId).Select(r => r.Event));
        var moved = JsonNode.Parse(received.Single(r => r.Event == "label.moved").Body)!;
        Assert.Equal(name, moved.Str("prompt"));
        Assert.Equal("production", moved.Str("label"));
        Assert.Equal("1.0.0", moved.Str("version"));
        Assert.Equal(experiment.Str("name"), JsonNode.Parse(received.Single(r => r.Event == "experiment.started").Body).Str("experiment"));

        var (_, list) = await GetAsync(client, "/api/webhooks");
        var (_, got) = await GetAsync(client, $"/api/webhooks/{webhook}");
        Assert.Equal(webhook, Assert.Single(list!["webhooks"]!.AsArray()).Str("id"));
        Assert.Null(got!["secret"]);
        Assert.Equal(receiver.Url.AbsoluteUri, got.Str("url"));
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, HttpMethod.Delete, $"/api/webhooks/{webhook}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(client, $"/api/webhooks/{webhook}")).Status);
    }

    [Fact]
    public async Task ReceiverFailingThenDown_IsRetriedWithGrowingBackoff_EachAttemptRecorded_ThenDelivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync(TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup(FastRetries), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var webhook = await CreateWebhookAsync(client, receiver, "version.created");
        receiver.Status = 500;

        await CreateSupportPromptAsync(client);
        var failing = await DeliveryAsync(client, webhook, d => d["history"]!.AsArray().Count >= 2);
        receiver.Down = true;
        var down = await DeliveryAsync(client, webhook, d => d["history"]!.AsArray().Any(a => a!["error"] is not null));
        receiver.Down = false;
        receiver.Status = 200;
        var accepted = await receiver.NextAcceptedAsync(Wait);
        var delivered = await DeliveryAsync(client, webhook, d => d.Str("status") == "delivered");

        Assert.Equal("pending", failing.Str("status"));
        Assert.All(failing["history"]!.AsArray(), a => Assert.Equal(500, a!["statusCode"]!.GetValue<int>()));
        Assert.NotNull(failing["nextAttemptAt"]);
        Assert.Null(down["history"]!.AsArray().Last()!["statusCode"]);
        Assert.True(accepted.SignatureValid);
        var history = delivered["history"]!.AsArray().Select(a => (Attempt: a!["attempt"]!.GetValue<int>(), At: a["at"]!.GetValue<DateTimeOffset>())).ToList();
        Assert.True(history.Count >= 4, $"{history.Count} attempts");
        Assert.Equal(Enumerable.Range(1, history.Count), history.Select(h => h.Attempt));
        Assert.Equal(history.Count, delivered["attempts"]!.GetValue<int>());
        // Backoff doubles from 200 ms up to 1 s: each gap is at least its backoff (a loaded machine only makes gaps longer).
        for (var i = 1; i < history.Count; i++)
        {
            var backoff = TimeSpan.FromMilliseconds(Math.Min(1000, 200 * Math.Pow(2, i - 1)));
            Assert.True(history[i].At - history[i - 1].At >= backoff, $"attempt {i + 1}: {string.Join(", ", history.Select(h => h.At.ToString("O")))}");
        }
        Assert.Null(delivered["nextAttemptAt"]);
    }

    /// <summary>
    /// An operator reads one Warning per failed attempt naming the webhook, event, attempt and why, at the server's default levels
    /// (Information): HttpClient's own logger added four Information lines per attempt, and a stack trace for a receiver that is down.
    /// </summary>
    [Fact]
    public async Task FailedAttempts_AreLoggedAsOneWarningEach_NamingWebhookEventAttemptAndWhy_WithoutHttpClientLinesOrStackTraces()
    {
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        using var logs = new LogCapture();
        await using var server = await RunningServer.StartAsync(
            logs.Setup([.. FastRetries, "--PromptVault:Webhooks:MaxAttempts=3", "--Logging:LogLevel:Default=Information"]), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var webhook = await CreateWebhookAsync(client, receiver, "version.created");
        receiver.Status = 500;

        await CreateSupportPromptAsync(client);
        await DeliveryAsync(client, webhook, d => d["history"]!.AsArray().Count >= 1);
        receiver.Down = true;
        var failed = await DeliveryAsync(client, webhook, d => d.Str("status") == "failed");

        var delivery = failed["id"]!.GetValue<long>();
        var lines = logs.Lines.Where(l => l.EventId == 2101).Select(l => (l.Level, l.Message)).ToList();
        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.Equal(LogLevel.Warning, l.Level));
        Assert.StartsWith($"Webhook {webhook} delivery {delivery} of version.created: attempt 1 of 3 failed: the receiver answered HTTP 500; next attempt at ", lines[0].Message, StringComparison.Ordinal);
        Assert.StartsWith($"Webhook {webhook} delivery {delivery} of version.created: attempt 3 of 3 failed: ", lines[2].Message, StringComparison.Ordinal);
        Assert.EndsWith($"; no attempt left, the delivery failed (POST /api/webhooks/{webhook}/deliveries/{delivery}/redeliver sends it again)", lines[2].Message, StringComparison.Ordinal);
        // The receiver resets the connection: HttpClient's message ("An error occurred while sending the request.") and its cause.
        Assert.Matches(@"attempt 3 of 3 failed: An error occurred while sending the request\. \(.+\); no attempt left", lines[2].Message);
        Assert.DoesNotContain(logs.Lines, l => l.Category.StartsWith("System.Net.Http.HttpClient." + Server.Webhooks.WebhookDispatcher.HttpClientName, StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Message.Contains("   at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebhookDeletedWhileItsDeliveryIsInFlight_TheUnrecordedAttemptIsLoggedAsSuch_NotAsALostLease()
    {
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        using var logs = new LogCapture();
        await using var server = await RunningServer.StartAsync(logs.Setup(FastRetries), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var webhook = await CreateWebhookAsync(client, receiver, "version.created");
        receiver.Hang = true;
        await CreateSupportPromptAsync(client);
        await receiver.Received.ReadAsync(TestContext.Current.CancellationToken); // its attempt is in flight

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, HttpMethod.Delete, $"/api/webhooks/{webhook}")).Status);
        // The attempt ends at Timeout (2 s).
        var unrecorded = await Eventually(() => Task.FromResult(logs.Lines.FirstOrDefault(l => l.EventId == 2102)), line => line is not null);

        Assert.Contains("its webhook was deleted", unrecorded!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PendingDelivery_IsSentByTheRestartedServer()
    {
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup(FastRetries), TestContext.Current.CancellationToken);
        string webhook;
        using (var client = server.CreateClient())
        {
            webhook = await CreateWebhookAsync(client, receiver, "version.created");
            receiver.Status = 503;
            await CreateSupportPromptAsync(client);
            await DeliveryAsync(client, webhook, d => d["history"]!.AsArray().Count >= 1);
        }

        await using var restarted = await server.RestartAsync(TestContext.Current.CancellationToken);
        receiver.Status = 200;
        var accepted = await receiver.NextAcceptedAsync(Wait);
        using var after = restarted.CreateClient();
        var delivered = await DeliveryAsync(after, webhook, d => d.Str("status") == "delivered");

        Assert.Equal("version.created", accepted.Event);
        Assert.True(accepted.SignatureValid);
        Assert.True(delivered["attempts"]!.GetValue<int>() >= 2);
    }

    [Fact]
    public async Task DeliveryInFlightAtShutdown_IsSentByTheRestartedServer_WithoutWaitingOutItsLease()
    {
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        // A lease far longer than the test may wait: only a lease given back at shutdown lets the restarted server send it.
        await using var server = await RunningServer.StartAsync(new ServerSetup(
            [.. FastRetries, "--PromptVault:Webhooks:Timeout=00:01:00", "--PromptVault:Webhooks:LeaseDuration=00:10:00"]), TestContext.Current.CancellationToken);
        string webhook;
        using (var client = server.CreateClient())
        {
            webhook = await CreateWebhookAsync(client, receiver, "version.created");
            receiver.Hang = true;
            await CreateSupportPromptAsync(client);
            await receiver.Received.ReadAsync(TestContext.Current.CancellationToken); // the attempt is in flight
        }

        receiver.Hang = false;
        await using var restarted = await server.RestartAsync(TestContext.Current.CancellationToken);
        var accepted = await receiver.NextAcceptedAsync(Wait);
        using var after = restarted.CreateClient();
        var delivered = await DeliveryAsync(after, webhook, d => d.Str("status") == "delivered");

        Assert.Equal("version.created", accepted.Event);
        Assert.Equal(1, delivered["attempts"]!.GetValue<int>()); // the cancelled attempt is not counted
    }

    [Fact]
    public async Task HangingReceiver_DoesNotHoldUpAnotherWebhooksDeliveries()
    {
        await using var hanging = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        // A timeout far longer than the test waits: the other webhook's deliveries must not wait for it.
        await using var server = await RunningServer.StartAsync(new ServerSetup(
            [.. FastRetries, "--PromptVault:Webhooks:Timeout=00:02:00", "--PromptVault:Webhooks:LeaseDuration=00:10:00"]), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        await CreateWebhookAsync(client, hanging, "version.created");
        await CreateWebhookAsync(client, receiver, "version.created");
        hanging.Hang = true;

        var name = await CreateSupportPromptAsync(client);
        await hanging.Received.ReadAsync(TestContext.Current.CancellationToken); // its attempt is in flight
        var first = await receiver.NextAcceptedAsync(Wait);
        var (status, body) = await PostAsync(client, $"/api/prompts/{name}/versions", new { content = $"{SupportTemplate}\nSecond", changeDescription = "second" });
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        var second = await receiver.NextAcceptedAsync(Wait);

        Assert.NotEqual(first.DeliveryId, second.DeliveryId);
        Assert.True(second.SignatureValid);
    }

    [Fact]
    public async Task HangingReceiverWithMoreDueThanBatchSize_HoldsOnlyItsShareOfSlots_AnotherWebhookIsDeliveredPromptly()
    {
        await using var hanging = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup(
        [
            .. FastRetries, "--PromptVault:Webhooks:Timeout=00:02:00", "--PromptVault:Webhooks:LeaseDuration=00:10:00",
            "--PromptVault:Webhooks:BatchSize=4", "--PromptVault:Webhooks:MaxInFlightPerWebhook=2",
        ]), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        await CreateWebhookAsync(client, hanging, "version.created");
        await CreateWebhookAsync(client, receiver, "label.moved");
        hanging.Hang = true;
        var name = await CreateSupportPromptAsync(client);
        for (var i = 1; i <= 5; i++) // six deliveries for the hanging receiver, more than BatchSize, all due before the label moves
            await NewVersionAsync(client, name, new { content = $"{SupportTemplate}\nVersion {i}", changeDescription = $"v{i}" });
        await hanging.Received.ReadAsync(TestContext.Current.CancellationToken);
        await hanging.Received.ReadAsync(TestContext.Current.CancellationToken); // its share of the slots is in flight

        var (status, body) = await PutAsync(client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" });
        var moved = await receiver.NextAcceptedAsync(Wait); // without the cap it would wait out the hanging attempts' Timeout

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Equal("label.moved", moved.Event);
        Assert.False(hanging.Received.TryRead(out _), "more of the hanging receiver's deliveries were sent at once than MaxInFlightPerWebhook");
    }

    [Fact]
    public async Task PromoteOfAnIncludedPrompt_IsDeliveredForTheIncluderToo_WithVia_Signed()
    {
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup(FastRetries), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var (guard, includer) = (UniqueName("guard"), UniqueName("includer"));
        await PostAsync(client, "/api/prompts", new { name = guard, type = "system", content = "Be kind." });
        await PutAsync(client, $"/api/prompts/{guard}/labels/production", new { version = "1.0.0" });
        await PostAsync(client, "/api/prompts", new { name = includer, type = "system", content = $"{{{{> {guard}}}}} Answer." });
        await PutAsync(client, $"/api/prompts/{includer}/labels/production", new { version = "1.0.0" });
        await CreateWebhookAsync(client, receiver, "label.moved");
        await NewVersionAsync(client, guard, new { content = "Be kinder.", changeDescription = "kinder" });

        var (promoted, body) = await PutAsync(client, $"/api/prompts/{guard}/labels/production", new { version = "1.0.1" });
        var received = new[] { await receiver.NextAcceptedAsync(Wait), await receiver.NextAcceptedAsync(Wait) }.OrderBy(r => r.DeliveryId).ToList();

        Assert.True(promoted == HttpStatusCode.OK, body?.ToJsonString());
        Assert.All(received, r => Assert.True(r.SignatureValid, $"bad signature on {r.Body}"));
        Assert.All(received, r => Assert.Equal("label.moved", r.Event));
        var (own, dependent) = (JsonNode.Parse(received[0].Body)!, JsonNode.Parse(received[1].Body)!);
        Assert.Equal(guard, own.Str("prompt"));
        Assert.Null(own["via"]);
        Assert.Equal((includer, guard), (dependent.Str("prompt"), dependent.Str("via")));
        Assert.Equal(("production", "1.0.1", "1.0.0"), (dependent.Str("label"), dependent.Str("version"), dependent.Str("previousVersion")));
        Assert.NotEqual(own.Str("id"), dependent.Str("id"));
    }

    [Fact]
    public async Task PromoteOfAPromptAChatPromptIncludes_IsDeliveredForTheChatPromptToo()
    {
        // A chat version's messages are stored as JSON, where '>' is written \u003E: the includer must still be found.
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup(FastRetries), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var (guard, chat) = (UniqueName("guard"), UniqueName("chat"));
        await PostAsync(client, "/api/prompts", new { name = guard, type = "system", content = "Be kind." });
        await PutAsync(client, $"/api/prompts/{guard}/labels/production", new { version = "1.0.0" });
        var (created, createdBody) = await PostAsync(client, "/api/prompts", new
        {
            name = chat, type = "chat", messages = new object[] { new { role = "system", content = $"{{{{> {guard}}}}} Answer." } },
        });
        Assert.True(created == HttpStatusCode.Created, createdBody?.ToJsonString());
        await PutAsync(client, $"/api/prompts/{chat}/labels/production", new { version = "1.0.0" });
        await CreateWebhookAsync(client, receiver, "label.moved");
        await NewVersionAsync(client, guard, new { content = "Be kinder.", changeDescription = "kinder" });

        await PutAsync(client, $"/api/prompts/{guard}/labels/production", new { version = "1.0.1" });
        var received = new[] { await receiver.NextAcceptedAsync(Wait), await receiver.NextAcceptedAsync(Wait) }.OrderBy(r => r.DeliveryId).ToList();

        var dependent = JsonNode.Parse(received[1].Body)!;
        Assert.Equal((chat, guard), (dependent.Str("prompt"), dependent.Str("via")));
    }

    [Theory]
    [InlineData("ci", "p%40ss:word", "ci:p@ss:word", "ci:***@")]
    [InlineData("t0ken", "", "t0ken", "***@")] // a token as the user name alone is the secret
    public async Task UrlWithUserInfo_IsDeliveredWithThoseBasicCredentials_AndReadBackWithThePasswordMasked(string user, string password,
        string credentials, string shown)
    {
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup(FastRetries), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var url = new UriBuilder(receiver.Url) { UserName = user, Password = password }.Uri.AbsoluteUri;
        var (status, created) = await PostAsync(client, "/api/webhooks", new { url, events = new[] { "version.created" } });
        receiver.Secret = created.Str("secret");

        await CreateSupportPromptAsync(client);
        var accepted = await receiver.NextAcceptedAsync(Wait);

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.True(accepted.SignatureValid);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)), accepted.Authorization);
        var userInfo = password.Length > 0 ? $"{user}:{password}@" : $"{user}@";
        Assert.Contains(userInfo, url, StringComparison.Ordinal);
        var masked = url.Replace(userInfo, shown, StringComparison.Ordinal);
        var listed = (await GetAsync(client, "/api/webhooks")).Body!["webhooks"]!.AsArray();
        Assert.Equal([masked, masked, masked], [created.Str("url"), Assert.Single(listed).Str("url"), (await GetAsync(client, $"/api/webhooks/{created.Str("id")}")).Body.Str("url")]);
    }

    [Fact]
    public async Task StoredUrlThatCannotBeSent_EachAttemptRecordedWithItsError()
    {
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup(FastRetries), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var webhook = await CreateWebhookAsync(client, receiver, "version.created");
        // A URL the API refuses, as a database edited by hand (or written by an older version) may hold.
        await using (var connection = new SqliteConnection($"Data Source={server.DatabasePath}"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE webhooks SET url = '/hook' WHERE id = $id";
            command.Parameters.AddWithValue("$id", webhook);
            Assert.Equal(1, await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        }

        await CreateSupportPromptAsync(client);
        var retried = await DeliveryAsync(client, webhook, d => d["history"]!.AsArray().Count >= 2);

        Assert.Equal("pending", retried.Str("status"));
        Assert.Equal(retried["history"]!.AsArray().Count, retried["attempts"]!.GetValue<int>());
        Assert.All(retried["history"]!.AsArray(), a => Assert.Contains("request URI", a.Str("error")));
    }

    [Fact]
    public async Task DeliveriesToTheServersOwnNetwork_AreRefusedAtConnect_EachAttemptSaysWhy_AndLoopbackOnlyWhenAllowed()
    {
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup([.. FastRetries, "--PromptVault:Webhooks:AllowLoopback=false"]),
            TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var port = receiver.Url.Port;
        // The cloud metadata service (link-local), the receiver by its loopback address, by name, as an IPv4-mapped IPv6 address,
        // and 0.0.0.0, which Linux connects to the machine itself.
        var urls = new[]
        {
            "http://169.254.169.254/latest/meta-data/", receiver.Url.AbsoluteUri, $"http://localhost:{port}/hook",
            $"http://[::ffff:127.0.0.1]:{port}/hook", $"http://0.0.0.0:{port}/hook",
        };
        var webhooks = new List<string>();
        foreach (var url in urls)
        {
            var (status, created) = await PostAsync(client, "/api/webhooks", new { url, events = new[] { "version.created" } });
            Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
            webhooks.Add(created.Str("id"));
        }

        await CreateSupportPromptAsync(client);
        var attempts = new List<JsonNode>();
        foreach (var webhook in webhooks)
            attempts.Add((await DeliveryAsync(client, webhook, d => d["history"]!.AsArray().Count >= 1))["history"]![0]!);

        Assert.All(attempts, a => Assert.Null(a["statusCode"]));
        Assert.Contains("169.254.169.254 is a link-local", attempts[0].Str("error"));
        Assert.Contains("127.0.0.1 is a loopback address", attempts[1].Str("error"));
        Assert.Contains("'localhost' resolves to", attempts[2].Str("error"));
        Assert.Contains("a loopback address", attempts[2].Str("error"));
        Assert.Contains("a loopback address", attempts[3].Str("error"));
        Assert.Contains("0.0.0.0 is a link-local, unspecified", attempts[4].Str("error"));
        Assert.All(attempts, a => Assert.Contains("which webhook deliveries may not reach", a.Str("error")));
        Assert.False(receiver.Received.TryRead(out _), "a delivery reached the loopback receiver");
    }

    [Fact]
    public async Task WebhookOfARevokedAdminKey_IsDisabledWithItsReasonOnGet_SendsNothing_UntilAnotherAdminEnablesIt()
    {
        await using var receiver = await WebhookReceiver.StartAsync(TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup(FastRetries), TestContext.Current.CancellationToken);
        using var admin = server.CreateClient();
        var (_, ops) = await PostAsync(admin, "/api/keys", new { name = "ops", role = "admin" });
        using var opsClient = server.CreateClient(ops.Str("key"));
        var webhook = await CreateWebhookAsync(opsClient, receiver, "version.created");
        receiver.Status = 500;
        await CreateSupportPromptAsync(admin);
        await DeliveryAsync(admin, webhook, d => d["history"]!.AsArray().Count >= 1);

        var (revoked, _) = await SendAsync(admin, HttpMethod.Delete, $"/api/keys/{ops.Str("id")}");
        receiver.Status = 200;
        var (_, disabled) = await GetAsync(admin, $"/api/webhooks/{webhook}");
        var (_, listed) = await GetAsync(admin, "/api/webhooks");
        await CreateSupportPromptAsync(admin); // queues nothing for a disabled webhook
        var (_, whileDisabled) = await GetAsync(admin, $"/api/webhooks/{webhook}/deliveries");
        // The pending delivery comes due, with every request the receiver saw recorded (none was in flight at the revocation)...
        var received = 0;
        var due = await Eventually(() => DeliveriesAsync(admin, webhook), d =>
        {
            while (receiver.Received.TryRead(out _)) received++;
            return d[0]!["nextAttemptAt"]?.GetValue<DateTimeOffset>() < DateTimeOffset.UtcNow && d[0]!["history"]!.AsArray().Count == received;
        });
        // ...and then another webhook's delivery, made after it was due, is sent: the dispatcher claims due deliveries oldest
        // first, so it passed over the disabled webhook's.
        await using var other = await WebhookReceiver.StartAsync(TestContext.Current.CancellationToken);
        var otherWebhook = await CreateWebhookAsync(admin, other, "version.created");
        await CreateSupportPromptAsync(admin);
        await DeliveryAsync(admin, otherWebhook, d => d.Str("status") == "delivered");
        var stillWaiting = await DeliveriesAsync(admin, webhook);
        var sentWhileDisabled = receiver.Received.TryRead(out _);
        var (enabledStatus, enabled) = await PostAsync(admin, $"/api/webhooks/{webhook}/enable", new { });
        var accepted = await receiver.NextAcceptedAsync(Wait);
        var delivered = await DeliveryAsync(admin, webhook, d => d.Str("status") == "delivered");
        await CreateSupportPromptAsync(admin);
        var next = await receiver.NextAcceptedAsync(Wait);

        Assert.Equal(HttpStatusCode.NoContent, revoked);
        Assert.Equal(ops.Str("id"), disabled.Str("keyId"));
        Assert.Contains($"the API key {ops.Str("id")} it is tied to was revoked", disabled.Str("disabledReason"));
        Assert.Equal(disabled.Str("disabledReason"), Assert.Single(listed!["webhooks"]!.AsArray()).Str("disabledReason"));
        Assert.Equal(1, whileDisabled!["total"]!.GetValue<int>());
        Assert.False(sentWhileDisabled, "the disabled webhook's receiver was sent a delivery");
        Assert.Equal("pending", Assert.Single(stillWaiting).Str("status"));
        Assert.Equal(due[0]!["history"]!.AsArray().Count, stillWaiting[0]!["history"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.OK, enabledStatus);
        Assert.Null(enabled!["disabledReason"]);
        Assert.NotEqual(ops.Str("id"), enabled.Str("keyId"));
        Assert.Equal(delivered["id"]!.GetValue<long>(), accepted.DeliveryId);
        Assert.True(next.SignatureValid);
        var (_, audit) = await GetAsync(admin, "/api/audit");
        Assert.Contains(audit!["entries"]!.AsArray(), e => e.Str("action") == "webhook.enabled");
    }

    [Fact]
    public async Task FailedDelivery_Redelivered_IsSentAgainAsANewDelivery_WithTheSameBody_AndTheFailedOneKept()
    {
        await using var receiver = await WebhookReceiver.StartAsync(TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup([.. FastRetries, "--PromptVault:Webhooks:MaxAttempts=2"]),
            TestContext.Current.CancellationToken);
        using var admin = server.CreateClient();
        using var writer = server.CreateClient(await server.CreateKeyAsync("writer", Core.Auth.ApiKeyRole.Writer, TestContext.Current.CancellationToken));
        var webhook = await CreateWebhookAsync(admin, receiver, "version.created");
        var (_, other) = await PostAsync(admin, "/api/webhooks", new { url = "http://127.0.0.1:1/other", events = new[] { "label.moved" } });
        receiver.Status = 500;
        await CreateSupportPromptAsync(admin);
        var failed = await DeliveryAsync(admin, webhook, d => d.Str("status") == "failed");
        var failedId = failed["id"]!.GetValue<long>();
        var refused = await receiver.Received.ReadAsync(TestContext.Current.CancellationToken);
        var (_, beforeRedelivery) = await GetAsync(admin, $"/api/webhooks/{webhook}/deliveries");
        receiver.Status = 200;

        var (forbidden, _) = await PostAsync(writer, $"/api/webhooks/{webhook}/deliveries/{failedId}/redeliver", new { });
        var (notOurs, notOursBody) = await PostAsync(admin, $"/api/webhooks/{other.Str("id")}/deliveries/{failedId}/redeliver", new { });
        using var resender = server.CreateClient(await server.CreateKeyAsync("resender", Core.Auth.ApiKeyRole.Admin, TestContext.Current.CancellationToken));
        var (status, redelivery) = await PostAsync(resender, $"/api/webhooks/{webhook}/deliveries/{failedId}/redeliver", new { });
        var accepted = await receiver.NextAcceptedAsync(Wait);
        var deliveries = await Eventually(() => DeliveriesAsync(admin, webhook), d => d[0].Str("status") == "delivered");

        Assert.Equal(1, beforeRedelivery!["total"]!.GetValue<int>());
        Assert.Equal(500, refused.AnsweredWith);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);
        Assert.Equal(HttpStatusCode.NotFound, notOurs);
        Assert.Equal("delivery_not_found", notOursBody.Str("code"));
        Assert.Contains($"has no delivery {failedId}", notOursBody.Str("detail"));
        Assert.Equal(HttpStatusCode.Accepted, status);
        var newId = redelivery!["id"]!.GetValue<long>();
        Assert.NotEqual(failedId, newId);
        Assert.Equal(("version.created", "pending", 0), (redelivery.Str("event"), redelivery.Str("status"), redelivery["attempts"]!.GetValue<int>()));
        Assert.Equal(newId, accepted.DeliveryId);
        Assert.True(accepted.SignatureValid);
        Assert.Equal(refused.Body, accepted.Body);
        Assert.Equal([newId, failedId], deliveries.Select(d => d!["id"]!.GetValue<long>()));
        Assert.Equal(["delivered", "failed"], deliveries.Select(d => d.Str("status")));
        Assert.Equal(2, deliveries[1]!["attempts"]!.GetValue<int>());
        var (_, audit) = await GetAsync(admin, "/api/audit?action=webhook.redelivered");
        var audited = Assert.Single(audit!["entries"]!.AsArray());
        Assert.Equal(("resender", webhook), (audited.Str("actor"), audited.Str("subject")));
        Assert.Equal((failedId.ToString(CultureInfo.InvariantCulture), newId.ToString(CultureInfo.InvariantCulture)),
            (audited!["before"].Str("deliveryId"), audited["after"].Str("deliveryId")));
    }

    [Fact]
    public async Task PendingDelivery_Redelivered_IsRefusedWith409SayingWhenItIsNextTried_AndNothingIsQueued()
    {
        await using var receiver = await WebhookReceiver.StartAsync(TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(new ServerSetup([.. FastRetries, "--PromptVault:Webhooks:InitialBackoff=01:00:00",
            "--PromptVault:Webhooks:MaxBackoff=01:00:00"]), TestContext.Current.CancellationToken);
        using var admin = server.CreateClient();
        var webhook = await CreateWebhookAsync(admin, receiver, "version.created");
        receiver.Status = 500;
        await CreateSupportPromptAsync(admin);
        var retrying = await DeliveryAsync(admin, webhook, d => d["history"]!.AsArray().Count == 1 && d["nextAttemptAt"] is not null);
        var id = retrying["id"]!.GetValue<long>();

        var (status, refusal) = await PostAsync(admin, $"/api/webhooks/{webhook}/deliveries/{id}/redeliver", new { });
        var (_, after) = await GetAsync(admin, $"/api/webhooks/{webhook}/deliveries");

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("delivery_in_progress", refusal.Str("code"));
        Assert.Contains($"delivery {id} of webhook '{webhook}' is still being delivered (its next attempt is due at ", refusal.Str("detail"));
        Assert.Equal(1, after!["total"]!.GetValue<int>());
    }

    /// <summary>Registers a webhook for <paramref name="receiver"/>, hands it the secret, and returns the webhook's id.</summary>
    public static async Task<string> CreateWebhookAsync(HttpClient client, WebhookReceiver receiver, params string[] events)
    {
        var (status, created) = await PostAsync(client, "/api/webhooks", new { url = receiver.Url.AbsoluteUri, events });
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
        Assert.StartsWith("whsec_", created.Str("secret"));
        receiver.Secret = created.Str("secret");
        return created.Str("id");
    }

    /// <summary>Polls the deliveries route until the webhook's only delivery satisfies <paramref name="condition"/>.</summary>
    public static async Task<JsonNode> DeliveryAsync(HttpClient client, string webhook, Func<JsonNode, bool> condition) =>
        (await Eventually(() => DeliveriesAsync(client, webhook), d => d.SingleOrDefault() is { } delivery && condition(delivery)))[0]!;

    /// <summary>The webhook's deliveries, newest first.</summary>
    private static async Task<JsonArray> DeliveriesAsync(HttpClient client, string webhook)
    {
        var (status, body) = await GetAsync(client, $"/api/webhooks/{webhook}/deliveries");
        Assert.Equal(HttpStatusCode.OK, status);
        return body!["deliveries"]!.AsArray();
    }
}
