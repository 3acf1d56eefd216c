using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PromptVault.Core.Contracts;
using PromptVault.Server.Tests.Api;
using PromptVault.Storage.Postgres;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Postgres;

/// <summary>
/// Two servers on one PostgreSQL database (issue 12): what one is told, the other serves within a second (render, SDK snapshot
/// and stream), keys revoked through one are refused by the other, experiments assign alike, and concurrent writers through
/// both lose nothing.
/// </summary>
public sealed class SharedDatabaseTests
{
    /// <summary>
    /// The bound on a change reaching the other server. docs/deployment.md promises a second and it takes milliseconds, but
    /// these tests' own requests count in it, and a second failed with CI's seven test assemblies on 2 cores. Without the
    /// notification (checked once by ignoring it) B accepted the revoked key for good and its stream announced the label move
    /// only after 6 s, through the counter's fallback: 5 s still fails then, if narrowly for the stream.
    /// </summary>
    private static readonly TimeSpan ChangeBound = TimeSpan.FromSeconds(5);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LabelMovedThroughOne_IsServedByTheOther_InRenderSnapshotAndStream_WithinOneSecond()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(cancellationToken: Cancel);
        var (a, b) = (servers.A, servers.B);
        // B serves 1.0.0 from its caches, and its stream has sent the snapshot holding it.
        var name = await ProductionServedByBothAsync(a, b);
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        await using var stream = await SdkStreamTests.SnapshotStream.OpenAsync(b, stopReading.Token);
        var first = await stream.NextAsync();

        await NewVersionAsync(a, name, new { content = "Version two for {{company_name}}.", changeDescription = "two" });
        var moved = Stopwatch.StartNew();
        // Events are timed as they arrive, so the wait measures the servers, not this test's own requests that follow.
        var arrivals = Channel.CreateUnbounded<(SdkSnapshotEvent Event, TimeSpan At)>();
        var reader = Task.Run(async () =>
        {
            try
            {
                while (await stream.TryNextAsync()) await arrivals.Writer.WriteAsync((stream.Current, moved.Elapsed), Cancel);
            }
            catch (OperationCanceledException) when (stopReading.IsCancellationRequested)
            {
            }
        }, Cancel);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(a, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" })).Status);
        var rendered = await Eventually(() => RenderAsync(b, name), r => r.Str("version") == "1.0.1");
        var renderedAfter = moved.Elapsed;
        var (afterMove, _) = await Eventually(() => SdkSnapshotTests.GetSnapshotAsync(b), s => ProductionIs(s, name, "1.0.1"));
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        waiting.CancelAfter(TimeSpan.FromSeconds(10));
        var announced = await arrivals.Reader.ReadAllAsync(waiting.Token).FirstAsync(e => e.Event.Sequence >= afterMove.Sequence, waiting.Token);
        await stopReading.CancelAsync();
        await reader;

        Assert.Equal("Version two for Acme.", rendered.Str("content"));
        Assert.True(renderedAfter < ChangeBound, $"B rendered the new version {renderedAfter} after the move");
        Assert.True(announced.At < ChangeBound, $"B's stream announced it {announced.At} after the move");
        Assert.Equal(afterMove.Sequence, announced.Event.Sequence);
        Assert.True(announced.Event.Sequence > first.Sequence);
    }

    [Fact]
    public async Task LabelMovedOnAnIncludedPromptThroughOne_ChangesTheIncludersRenderOnTheOther_WithinOneSecond()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(cancellationToken: Cancel);
        using var a = servers.CreateClient(0);
        using var b = servers.CreateClient(1);
        var guard = UniqueName("guard");
        var includer = UniqueName("includer");
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(a, "/api/prompts", new { name = guard, type = "system", content = "Policy one." })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(a, $"/api/prompts/{guard}/labels/production", new { version = "1.0.0" })).Status);
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(a, "/api/prompts", new { name = includer, type = "system", content = $"Rules: {{{{> {guard}}}}}" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(a, $"/api/prompts/{includer}/labels/production", new { version = "1.0.0" })).Status);
        Assert.Equal("Rules: Policy one.", (await Eventually(() => RenderAsync(b, includer), r => r.Str("content") == "Rules: Policy one.")).Str("content"));
        await NewVersionAsync(a, guard, new { content = "Policy two.", changeDescription = "two" });

        var moved = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(a, $"/api/prompts/{guard}/labels/production", new { version = "1.0.1" })).Status);
        var rendered = await Eventually(() => RenderAsync(b, includer), r => r.Str("content") == "Rules: Policy two.");

        Assert.True(moved.Elapsed < ChangeBound, $"B rendered the includer with the moved label {moved.Elapsed} after the move");
        Assert.Equal("1.0.1", rendered["references"]![0].Str("version"));
    }

    [Fact]
    public async Task SnapshotsOfOneState_HaveOneSequenceOnBothServers_AndALaterStateAGreaterOne()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(cancellationToken: Cancel);
        var (a, b) = (servers.A, servers.B);
        var name = await CreateSupportPromptAsync(a);
        var sequences = new List<long>();

        for (var i = 1; i <= 3; i++)
        {
            await NewVersionAsync(b, name, new { content = $"Version {i} for {{{{company_name}}}}.", changeDescription = $"v{i}" });
            Assert.Equal(HttpStatusCode.OK, (await PutAsync(a, $"/api/prompts/{name}/labels/production", new { version = $"1.0.{i}" })).Status);
            var onA = await Eventually(() => SdkSnapshotTests.GetSnapshotAsync(a), s => ProductionIs(s, name, $"1.0.{i}"));
            var onB = await Eventually(() => SdkSnapshotTests.GetSnapshotAsync(b), s => ProductionIs(s, name, $"1.0.{i}"));

            // The same registry state is the same number (and ETag) wherever it is built, so an SDK switching servers compares them.
            Assert.Equal(onA.Snapshot.Sequence, onB.Snapshot.Sequence);
            Assert.Equal(onA.ETag, onB.ETag);
            sequences.Add(onA.Snapshot.Sequence);
        }

        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(sequences.Count, sequences.Distinct().Count());
    }

    /// <summary>
    /// An API key change moves the database's counter, which labels snapshots. A gave the snapshot it had built before the
    /// change its old number while B, building after it (started or reconnected since), gave the same state the new one: an SDK
    /// switching between them logged A's as older and ignored it (and A's ETag never matched, so each poll of A got the whole snapshot).
    /// </summary>
    [Fact]
    public async Task SnapshotsOfOneState_HaveOneSequenceOnBothServers_AlsoAfterAnApiKeyChange()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(cancellationToken: Cancel);
        var (a, b) = (servers.A, servers.B);
        var name = await CreateSupportPromptAsync(a);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(a, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" })).Status);
        await Eventually(() => SdkSnapshotTests.GetSnapshotAsync(a), s => ProductionIs(s, name, "1.0.0"));

        Assert.Equal(HttpStatusCode.Created, (await PostAsync(a, "/api/keys", new { name = "writer-bot", role = "writer" })).Status);
        var onB = await SdkSnapshotTests.GetSnapshotAsync(b);
        var onA = await SdkSnapshotTests.GetSnapshotAsync(a);

        Assert.True(ProductionIs(onB, name, "1.0.0"));
        Assert.Equal(onB.Snapshot.Sequence, onA.Snapshot.Sequence);
        Assert.Equal(onB.ETag, onA.ETag);
    }

    [Fact]
    public async Task RevokingAKeyOnOne_IsRefusedOnTheOther_AtOnce()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(cancellationToken: Cancel);
        var a = servers.A;
        var (status, created) = await PostAsync(a, "/api/keys", new { name = "writer-bot", role = "writer" });
        Assert.Equal(HttpStatusCode.Created, status);
        using var bAsWriter = servers.CreateClient(1, created.Str("key"));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(bAsWriter, "/api/prompts")).Status); // B has the key cached now

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(a, HttpMethod.Delete, $"/api/keys/{created.Str("id")}")).Status);
        var revoked = Stopwatch.StartNew();
        var refused = await Eventually(async () => (await GetAsync(bAsWriter, "/api/prompts")).Status, s => s == HttpStatusCode.Unauthorized);

        Assert.Equal(HttpStatusCode.Unauthorized, refused);
        // The same NOTIFY that carries label moves, so the same bound.
        Assert.True(revoked.Elapsed < ChangeBound, $"B accepted the revoked key for {revoked.Elapsed}");
    }

    [Fact]
    public async Task ExperimentStartedThroughOne_AssignsEveryUnitAlikeOnBoth()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(cancellationToken: Cancel);
        var (a, b) = (servers.A, servers.B);
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(a);
        Assert.Equal("1.0.0", (await RenderAsync(b, name, "warm")).Str("version")); // B caches "no experiment running"
        var experiment = await Experiments.CreateAsync(a, Experiments.ThreeWay(name, versionIds));
        await Experiments.MoveAsync(a, experiment.Str("id"), "start");

        await Eventually(() => RenderAsync(b, name, "unit-0"), r => r["experimentId"] is not null);
        var onA = new List<string>();
        var onB = new List<string>();
        for (var unit = 0; unit < 300; unit++)
        {
            onA.Add((await RenderAsync(a, name, $"unit-{unit}")).Str("variantId"));
            onB.Add((await RenderAsync(b, name, $"unit-{unit}")).Str("variantId"));
        }

        Assert.Equal(onA, onB);
        Assert.Equal(3, onA.Distinct().Count());
    }

    /// <summary>
    /// Conflicting writes through both servers at once, where PostgreSQL runs them in parallel: of experiments of one prompt
    /// started together one runs, of one name created together one prompt is made, of label moves from one reading one moves
    /// it; every other answer is the documented 409 or 412, and the audit log holds only what happened.
    /// </summary>
    [Fact]
    public async Task ConflictingWritesThroughBoth_OneWinsAndTheOthersAreRefusedCleanly()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(cancellationToken: Cancel);
        var (a, b) = (servers.A, servers.B);
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(a);
        var experiments = new List<string>();
        for (var i = 0; i < 6; i++) experiments.Add((await Experiments.CreateAsync(a, Experiments.ThreeWay(name, versionIds))).Str("id"));
        var twin = UniqueName("twin");

        var starts = await Task.WhenAll(experiments.Select((id, i) => PostAsync(i % 2 == 0 ? a : b, $"/api/experiments/{id}/start", null)));
        var creates = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => PostAsync(i % 2 == 0 ? a : b, "/api/prompts", SupportPrompt(twin))));
        await PutAsync(a, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" });
        var movedBefore = (await GetAsync(a, $"/api/audit?prompt={name}&action=label.moved")).Body!["total"]!.GetValue<int>();
        var moves = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            MoveLabelAsync(i % 2 == 0 ? a : b, $"/api/prompts/{name}/labels/staging", $"1.0.{i % 2 + 1}", "\"1.0.0\"")));
        var (_, list) = await GetAsync(b, $"/api/experiments?prompt={name}");
        var (_, started) = await GetAsync(b, $"/api/audit?prompt={name}&action=experiment.started");
        var (_, created) = await GetAsync(b, $"/api/audit?prompt={twin}&action=prompt.created");
        var (_, moved) = await GetAsync(b, $"/api/audit?prompt={name}&action=label.moved");
        var staging = (await GetAsync(b, $"/api/prompts/{name}")).Body!["labels"].Str("staging");

        Assert.Single(starts, s => s.Status == HttpStatusCode.OK);
        Assert.All(starts.Where(s => s.Status != HttpStatusCode.OK), s => Assert.Equal("experiment_running", s.Body.Str("code")));
        Assert.Single(list!["experiments"]!.AsArray(), e => e.Str("status") == "running");
        Assert.Equal(1, started!["total"]!.GetValue<int>());
        Assert.Single(creates, c => c.Status == HttpStatusCode.Created);
        Assert.All(creates.Where(c => c.Status != HttpStatusCode.Created), c => Assert.Equal(HttpStatusCode.Conflict, c.Status));
        Assert.Equal(1, created!["total"]!.GetValue<int>());
        var won = Assert.Single(moves.Select((m, i) => (m, i)), x => x.m.Status == HttpStatusCode.OK);
        Assert.All(moves.Where(m => m.Status != HttpStatusCode.OK), m => Assert.Equal("label_moved", m.Body.Str("code")));
        Assert.Equal(movedBefore + 1, moved!["total"]!.GetValue<int>());
        Assert.Equal($"1.0.{won.i % 2 + 1}", staging);
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> MoveLabelAsync(HttpClient client, string path, string version, string ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = System.Net.Http.Json.JsonContent.Create(new { version }) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        using var response = await client.SendAsync(request, Cancel);
        var text = await response.Content.ReadAsStringAsync(Cancel);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task ConcurrentVersionCreation_ThroughBoth_GivesDistinctConsecutiveNumbers()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(cancellationToken: Cancel);
        var (a, b) = (servers.A, servers.B);
        var name = await CreateSupportPromptAsync(a);
        const int Writers = 24;

        var created = await Task.WhenAll(Enumerable.Range(0, Writers).Select(i =>
            PostAsync(i % 2 == 0 ? a : b, $"/api/prompts/{name}/versions", new { content = $"Concurrent {i} for {{{{company_name}}}}.", changeDescription = $"writer {i}" })));

        Assert.All(created, c => Assert.True(c.Status == HttpStatusCode.Created, c.Body?.ToJsonString()));
        var numbers = created.Select(c => c.Body.Str("version")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Enumerable.Range(1, Writers).Select(i => $"1.0.{i}").Order(StringComparer.Ordinal), numbers);
        var (_, history) = await GetAsync(b, $"/api/prompts/{name}/versions");
        Assert.Equal(Writers + 1, Versions(history!).Count);
    }

    /// <summary>
    /// Proves the reconnect's own catch-up: B's caches hold the production label when the change commits unheard, and only
    /// dropping them on listening again makes B serve it (render reads no clock, so nothing else refreshes them). Once they were
    /// cold there: the version created just before had dropped B's entries for the prompt and nothing read them again, so B read
    /// the store and the test passed with every drop in PostgresRegistryChanges removed. Now it fails without the drop in ListenAsync.
    /// </summary>
    [Fact]
    public async Task AChangeMadeWhileTheListenerWasCutOff_IsServedAfterItReconnects()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(cancellationToken: Cancel);
        var (a, b) = (servers.A, servers.B);
        var listeners = new[] { 0, 1 }.Select(i => servers.Services(i).GetRequiredService<PostgresRegistryChanges>()).ToArray();
        var name = await ProductionServedByBothAsync(a, b);

        // The change must commit while B's listener is away (Applied is -1 from noticing the cut until it listens again), after B
        // cached the label while cut off (past the drop on noticing the cut). It reconnects after a second, which a loaded
        // machine's requests can outlast: then the change was heard, and it is cut again.
        string moved;
        for (var attempt = 1; ; attempt++)
        {
            moved = (await NewVersionAsync(a, name, new { content = $"Version {attempt + 1} for {{{{company_name}}}}.", changeDescription = "next" })).Str("version");
            foreach (var listener in listeners) await Eventually(() => Task.FromResult(listener.Applied), applied => applied >= 0);
            Assert.Equal(2, await TerminateListenersAsync(servers));
            await Eventually(() => Task.FromResult(listeners[1].Applied), applied => applied < 0);
            Assert.NotEqual(moved, (await RenderAsync(b, name)).Str("version")); // B caches the label as it is before the move
            Assert.Equal(HttpStatusCode.OK, (await PutAsync(a, $"/api/prompts/{name}/labels/production", new { version = moved })).Status);
            if (listeners[1].Applied < 0) break;
            Assert.True(attempt < 5, $"B's listener was back before the change committed, {attempt} times");
        }

        Assert.Equal(moved, (await Eventually(() => RenderAsync(b, name), r => r.Str("version") == moved)).Str("version"));
        await Eventually(() => Task.FromResult(listeners[1].Applied), applied => applied > 0);
    }

    /// <summary>A new support prompt, labelled production 1.0.0 through <paramref name="a"/>, once <paramref name="b"/> renders that version.</summary>
    private static async Task<string> ProductionServedByBothAsync(HttpClient a, HttpClient b)
    {
        var name = await CreateSupportPromptAsync(a);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(a, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" })).Status);
        await Eventually(() => RenderAsync(b, name), r => r.Str("version") == "1.0.0");
        return name;
    }

    internal static bool ProductionIs((SdkSnapshot Snapshot, System.Net.Http.Headers.EntityTagHeaderValue ETag) snapshot, string name, string version)
    {
        var prompt = snapshot.Snapshot.Prompts.SingleOrDefault(p => p.Name == name);
        return prompt is not null && prompt.Labels.TryGetValue("production", out var id) && prompt.Versions.Single(v => v.Id == id).Version == version;
    }

    public static async Task<JsonNode> RenderAsync(HttpClient client, string name, string? unitId = null)
    {
        var (status, rendered) = await PostAsync(client, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" }, unitId });
        Assert.True(status == HttpStatusCode.OK, rendered?.ToJsonString());
        return rendered!;
    }

    private static JsonArray Versions(JsonNode history) => history is JsonArray array ? array : history["versions"]!.AsArray();

    /// <summary>Ends the servers' LISTEN connections from the database side, as a failover or a network cut would.</summary>
    private static async Task<int> TerminateListenersAsync(SharedDatabaseServers servers)
    {
        await using var connection = new NpgsqlConnection(servers.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var terminate = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE datname = current_database() AND application_name = @name", connection);
        terminate.Parameters.AddWithValue("name", PostgresRegistryChanges.ApplicationName);
        return (int)(await terminate.ExecuteScalarAsync(Cancel))!;
    }
}
