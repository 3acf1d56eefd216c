using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;

namespace PromptVault.Cli.Tests;

/// <summary>
/// The durability promises of docs/reliability.md under crashes: the real server process is killed with SIGKILL while
/// concurrent writers are in flight, and restarted on the same file. A writer whose request failed retries it (same
/// Idempotency-Key, same event ids, same unit id) until it is acknowledged, as a client would. Afterwards every
/// acknowledged write is stored exactly once, the aggregates equal the stored events, and the file is intact.
/// </summary>
/// <remarks>
/// The restarted server binds a port of its own (port 0), and the writers follow it to its new address: restarting on the
/// port the killed one released would fail by chance whenever another process took that port in between.
/// </remarks>
public sealed class CrashTests
{
    private const int Kills = 4;
    private const int EventsPerBatch = 10;
    /// <summary>Acknowledged writes of each kind (versions, label moves, event batches, renders) between kills.</summary>
    private const int WritesBetweenKills = 3;

    [Fact]
    public async Task Serve_KilledFourTimesWhileWriting_KeepsEveryAcknowledgedWriteExactlyOnce()
    {
        using var folder = new TempFolder();
        var database = folder.File("crash.db");
        var clock = Stopwatch.StartNew();
        var server = await ServerProcess.StartAsync(database);
        try
        {
            var ledger = new Ledger();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey(server.Output));
            // Stop: each writer finishes its write in flight (it is acknowledged, so in the ledger) and ends. Abandon: the test
            // failed, and every write in flight is given up.
            using var stop = new CancellationTokenSource();
            using var abandon = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            var api = new Api(http, ledger, server.BaseAddress, abandon.Token);
            var setup = await SetUpAsync(api);

            var writers = new List<Task>
            {
                Task.Run(() => WriteVersionsAsync(api, "crash-v0", stop.Token), TestContext.Current.CancellationToken),
                Task.Run(() => WriteVersionsAsync(api, "crash-v1", stop.Token), TestContext.Current.CancellationToken),
                Task.Run(() => MoveLabelsAsync(api, stop.Token), TestContext.Current.CancellationToken),
                Task.Run(() => RecordMetricsAsync(api, setup, "m0", stop.Token), TestContext.Current.CancellationToken),
                Task.Run(() => RecordMetricsAsync(api, setup, "m1", stop.Token), TestContext.Current.CancellationToken),
                Task.Run(() => RenderAsync(api, "r0", stop.Token), TestContext.Current.CancellationToken),
                Task.Run(() => RenderAsync(api, "r1", stop.Token), TestContext.Current.CancellationToken),
            };
            try
            {
                for (var kill = 0; kill < Kills; kill++)
                {
                    await ledger.WrittenAsync(WritesBetweenKills, writers);
                    // Killed with requests in flight (they are cut off and sent again), and only then down: holding new requests
                    // before the kill left none in flight on a loaded machine (CI: 0 interrupted in four kills).
                    await server.DisposeAsync();
                    api.Down();
                    var down = clock.Elapsed;
                    server = await ServerProcess.StartAsync(database);
                    api.Up(server.BaseAddress);
                    TestContext.Current.TestOutputHelper?.WriteLine($"kill {kill + 1} at {down.TotalSeconds:0.0} s; healthy again after {(clock.Elapsed - down).TotalSeconds:0.0} s");
                }
                await ledger.WrittenAsync(WritesBetweenKills, writers);
            }
            catch (Exception failure)
            {
                // The writers end before the server is disposed (they would go on sending to it), and a writer's own failure,
                // perhaps the cause of this one (or this one, when it ended the wait), is reported with it.
                await abandon.CancelAsync();
                var ended = Task.WhenAll(writers);
                await ended.ContinueWith(_ => { }, TaskScheduler.Default);
                var writerFailures = ended.Exception?.InnerExceptions.Where(e => e is not OperationCanceledException && e != failure).ToList() ?? [];
                if (writerFailures.Count > 0) throw new AggregateException(writerFailures.Prepend(failure));
                throw;
            }
            stop.Cancel();
            await Task.WhenAll(writers);

            var served = await ReadAggregatesAsync(api, setup);
            // Render exposures queued when a kill came are lost (docs/reliability.md#exposures-of-renders); each unit's next
            // render records its exposure again.
            var lost = await LostExposuresAsync(database, ledger, setup);
            foreach (var unitId in lost)
                await api.SendAsync(HttpMethod.Post, "/api/prompts/crash-exp/render", new { unitId });
            var servedAfterRenders = await ReadAggregatesAsync(api, setup);
            await server.DisposeAsync();
            await using var file = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString());
            await file.OpenAsync(TestContext.Current.CancellationToken);

            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{clock.Elapsed.TotalSeconds:0.0} s: {ledger.Versions.Count} versions, {ledger.LabelMoves.Count} label moves, {ledger.Events.Values.Sum()} events, " +
                $"{ledger.Exposures.Count} renders with new units answered ({lost.Count} of their exposures lost to a kill and recorded by a second render); " +
                $"{ledger.Interrupted} requests interrupted by a kill and sent again");
            Assert.True(ledger.Interrupted > 0, "no request was in flight when the server was killed; the test proved nothing.");
            Assert.Equal("ok", await file.ExecuteScalarAsync<string>("PRAGMA integrity_check"));
            Assert.Empty(await file.QueryAsync("PRAGMA foreign_key_check"));
            await AssertVersionsAsync(file, ledger);
            await AssertLabelsAsync(file, ledger);
            await AssertEventsAsync(file, ledger, setup, served);
            Assert.Equal(served.Exposures.Values.Sum() + lost.Count, servedAfterRenders.Exposures.Values.Sum());
            await AssertExposuresAsync(file, ledger, setup, servedAfterRenders);
            Assert.Equal(ledger.IdempotencyKeys.Order(StringComparer.Ordinal), await file.QueryAsync<string>("SELECT key FROM idempotency_keys ORDER BY key"));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Serve_KilledWithRenderExposuresQueued_LosesThem_UnitsEventsUnattributedUntilTheirNextRender()
    {
        using var folder = new TempFolder();
        var database = folder.File("crash.db");
        var server = await ServerProcess.StartAsync(database);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey(server.Output));
            var api = new Api(http, new Ledger(), server.BaseAddress, TestContext.Current.CancellationToken);
            var setup = await SetUpAsync(api);
            var units = Enumerable.Range(0, 20).Select(i => $"lost-{i}").ToList();
            var events = new List<object>();
            foreach (var unitId in units)
            {
                var assigned = await api.SendAsync(HttpMethod.Get, $"/api/experiments/{setup.ExperimentId}/assignment?unitId={unitId}");
                events.Add(new { versionId = Str(assigned, "versionId"), experimentId = setup.ExperimentId, variantId = Str(assigned, "variantId"), unitId, converted = true });
            }
            await api.SendAsync(HttpMethod.Post, "/api/metrics", new { events });

            await using (var writeLock = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString()))
            {
                // The server's writer cannot commit while this lock is held (for less than its 10 s busy timeout): every render
                // is answered, its exposure queued, and the kill loses them all.
                await writeLock.OpenAsync(TestContext.Current.CancellationToken);
                using var transaction = writeLock.BeginTransaction();
                foreach (var unitId in units)
                    Assert.NotNull((await api.SendAsync(HttpMethod.Post, "/api/prompts/crash-exp/render", new { unitId }))["variantId"]);
                await server.DisposeAsync();
            }
            server = await ServerProcess.StartAsync(database);
            api.Up(server.BaseAddress);
            var afterKill = await api.SendAsync(HttpMethod.Get, $"/api/experiments/{setup.ExperimentId}/results");
            foreach (var unitId in units)
                await api.SendAsync(HttpMethod.Post, "/api/prompts/crash-exp/render", new { unitId });
            var afterRenders = await api.SendAsync(HttpMethod.Get, $"/api/experiments/{setup.ExperimentId}/results");
            await server.DisposeAsync();

            static long Sum(JsonNode results, string field) => results["variants"]!.AsArray().Sum(v => v![field]!.GetValue<long>());
            Assert.Equal(0, Sum(afterKill, "exposures"));
            Assert.Equal(units.Count, Sum(afterKill, "unattributedEvents"));
            Assert.Equal(units.Count, Sum(afterRenders, "exposures"));
            Assert.Equal(0, Sum(afterRenders, "unattributedEvents"));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Prompts for every writer, and a running two-variant experiment whose sample size is never reached.</summary>
    private static async Task<Setup> SetUpAsync(Api api)
    {
        foreach (var name in new[] { "crash-v0", "crash-v1", "crash-labels", "crash-metrics", "crash-exp" })
            await api.SendAsync(HttpMethod.Post, "/api/prompts", new { name, content = $"First of {name}" });
        for (var i = 1; i < Setup.LabelTargets; i++)
            await api.SendAsync(HttpMethod.Post, "/api/prompts/crash-labels/versions", new { content = $"Label target {i}", changeDescription = $"target {i}" });
        var plain = await api.SendAsync(HttpMethod.Get, "/api/prompts/crash-metrics/versions/1.0.0");
        await api.SendAsync(HttpMethod.Post, "/api/prompts/crash-exp/versions", new { content = "Challenger", changeDescription = "challenger" });
        await api.SendAsync(HttpMethod.Put, "/api/prompts/crash-exp/labels/production", new { version = "1.0.0" });
        var experiment = await api.SendAsync(HttpMethod.Post, "/api/experiments", new
        {
            name = "crash",
            prompt = "crash-exp",
            variants = new object[] { new { name = "control", versionId = "1.0.0", weight = 50 }, new { name = "challenger", versionId = "1.0.1", weight = 50 } },
            targetMetric = "conversionRate",
            minimumSampleSize = 100_000_000,
        });
        var id = Str(experiment, "id");
        await api.SendAsync(HttpMethod.Post, $"/api/experiments/{id}/start");
        var control = experiment["variants"]!.AsArray().Single(v => Str(v, "name") == "control")!;
        return new Setup(Str(plain, "id"), id, Str(control, "id"), Str(control, "versionId"));
    }

    /// <summary>New versions of one prompt, each with its own Idempotency-Key.</summary>
    private static async Task WriteVersionsAsync(Api api, string prompt, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var key = $"{prompt}-{i}";
            var content = $"Version {i} of {prompt}";
            var created = await api.SendAsync(HttpMethod.Post, $"/api/prompts/{prompt}/versions", new { content, changeDescription = $"write {i}" }, key);
            api.Ledger.Versions.Add((prompt, Str(created, "id"), content));
            api.Ledger.IdempotencyKeys.Add(key);
        }
    }

    /// <summary>Moves <c>canary</c> and <c>production</c> (a promote) in turn, each to another version than its last.</summary>
    private static async Task MoveLabelsAsync(Api api, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var label = i % 2 == 0 ? "canary" : "production";
            var version = $"1.0.{i / 2 % Setup.LabelTargets}";
            await api.SendAsync(HttpMethod.Put, $"/api/prompts/crash-labels/labels/{label}", new { version });
            api.Ledger.LabelMoves.Enqueue((label, version));
        }
    }

    /// <summary>Batches in turn with event ids (to a plain version) and without ids but with an Idempotency-Key (to the experiment's control).</summary>
    private static async Task RecordMetricsAsync(Api api, Setup setup, string writer, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var withIds = i % 2 == 0;
            var events = Enumerable.Range(0, EventsPerBatch).Select(j => withIds
                ? (object)new { id = $"{writer}-{i}-{j}", versionId = setup.PlainVersionId, latencyMs = j, converted = j % 2 == 0 }
                : new { versionId = setup.ControlVersionId, experimentId = setup.ExperimentId, variantId = setup.ControlVariantId, unitId = $"{writer}-{i}-{j}", latencyMs = j, converted = j % 3 == 0 })
                .ToArray();
            var key = withIds ? null : $"{writer}-{i}";
            var recorded = await api.SendAsync(HttpMethod.Post, "/api/metrics", new { events }, key);
            if (withIds)
            {
                // A retry of a batch that was stored before its answer was lost reports its events as duplicates.
                Assert.Equal(EventsPerBatch, recorded["stored"]!.GetValue<int>() + recorded["duplicates"]!.AsArray().Count);
                for (var j = 0; j < EventsPerBatch; j++) api.Ledger.EventIds.Add($"{writer}-{i}-{j}");
            }
            else
            {
                Assert.Equal(EventsPerBatch, recorded["stored"]!.GetValue<int>());
                api.Ledger.IdempotencyKeys.Add(key!);
            }
            api.Ledger.Events.AddOrUpdate(withIds ? setup.PlainVersionId : setup.ControlVersionId, EventsPerBatch, (_, n) => n + EventsPerBatch);
        }
    }

    /// <summary>Renders of the experiment's prompt with new unit ids, each an exposure.</summary>
    private static async Task RenderAsync(Api api, string writer, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var unitId = $"{writer}-{i}";
            var rendered = await api.SendAsync(HttpMethod.Post, "/api/prompts/crash-exp/render", new { unitId });
            Assert.NotNull(rendered["experimentId"]);
            api.Ledger.Exposures[unitId] = Str(rendered, "variantId");
        }
    }

    private static async Task<Served> ReadAggregatesAsync(Api api, Setup setup)
    {
        async Task<long> CountAsync(string prompt) =>
            (await api.SendAsync(HttpMethod.Get, $"/api/prompts/{prompt}/versions/1.0.0/metrics?period=all"))["summary"]!["count"]!.GetValue<long>();

        var results = await api.SendAsync(HttpMethod.Get, $"/api/experiments/{setup.ExperimentId}/results");
        var variants = results["variants"]!.AsArray();
        return new Served(
            new Dictionary<string, long> { [setup.PlainVersionId] = await CountAsync("crash-metrics"), [setup.ControlVersionId] = await CountAsync("crash-exp") },
            variants.ToDictionary(v => Str(v, "variantId"), v => v!["exposures"]!.GetValue<long>()),
            variants.ToDictionary(v => Str(v, "variantId"), v => v!["unattributedEvents"]!.GetValue<long>()));
    }

    private static async Task AssertVersionsAsync(SqliteConnection file, Ledger ledger)
    {
        foreach (var prompt in new[] { "crash-v0", "crash-v1" })
        {
            var stored = (await file.QueryAsync<(string Id, string Content)>(
                "SELECT v.id, v.content FROM versions v JOIN prompts p ON p.id = v.prompt_id WHERE p.name = @prompt AND v.sequence > 1", new { prompt })).ToList();
            var acknowledged = ledger.Versions.Where(v => v.Prompt == prompt).Select(v => (v.Id, v.Content)).ToList();
            Assert.NotEmpty(acknowledged);
            Assert.Equal(acknowledged.Order(), stored.Order());
        }
    }

    private static async Task AssertLabelsAsync(SqliteConnection file, Ledger ledger)
    {
        var moves = ledger.LabelMoves.ToList();
        foreach (var (label, action) in new[] { ("canary", "label.moved"), ("production", "version.promoted") })
        {
            var last = moves.Last(m => m.Label == label).Version;
            var current = await file.ExecuteScalarAsync<string>("""
                SELECT v.major || '.' || v.minor || '.' || v.patch FROM labels l JOIN versions v ON v.id = l.version_id
                JOIN prompts p ON p.id = l.prompt_id WHERE p.name = 'crash-labels' AND l.name = @label
                """, new { label });
            var audited = await file.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM audit WHERE prompt_name = 'crash-labels' AND action = @action", new { action });
            Assert.Equal(last, current);
            Assert.Equal(moves.Count(m => m.Label == label), audited);
        }
        Assert.Equal(1, await file.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM versions v JOIN prompts p ON p.id = v.prompt_id WHERE p.name = 'crash-labels' AND v.status = 'production'"));
    }

    private static async Task AssertEventsAsync(SqliteConnection file, Ledger ledger, Setup setup, Served served)
    {
        var ids = (await file.QueryAsync<string>("SELECT id FROM metric_events WHERE id IS NOT NULL ORDER BY id")).ToList();
        Assert.Equal(ledger.EventIds.Order(StringComparer.Ordinal), ids);
        foreach (var versionId in new[] { setup.PlainVersionId, setup.ControlVersionId })
        {
            var rows = await file.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM metric_events WHERE version_id = @versionId", new { versionId });
            Assert.Equal(ledger.Events.GetValueOrDefault(versionId), rows);
            Assert.Equal(rows, served.VersionCounts[versionId]);
        }
        var variantRows = await file.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM metric_events WHERE experiment_id = @ExperimentId AND variant_id = @ControlVariantId", setup);
        // The events' units were never exposed (renders use other unit ids), so the results report every one as unattributed.
        Assert.Equal(variantRows, served.VariantEvents[setup.ControlVariantId]);
    }

    /// <summary>Units whose render was answered but whose exposure is not stored; every stored exposure is of an answered render, to the variant it was served.</summary>
    private static async Task<List<string>> LostExposuresAsync(string database, Ledger ledger, Setup setup)
    {
        await using var file = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString());
        await file.OpenAsync(TestContext.Current.CancellationToken);
        var stored = (await file.QueryAsync<(string UnitId, string VariantId)>(
            "SELECT unit_id, variant_id FROM exposures WHERE experiment_id = @ExperimentId", setup)).ToDictionary(e => e.UnitId, e => e.VariantId);
        Assert.All(stored, e => Assert.Equal(ledger.Exposures[e.Key], e.Value));
        return ledger.Exposures.Keys.Where(unit => !stored.ContainsKey(unit)).ToList();
    }

    private static async Task AssertExposuresAsync(SqliteConnection file, Ledger ledger, Setup setup, Served served)
    {
        var stored = (await file.QueryAsync<(string UnitId, string VariantId)>(
            "SELECT unit_id, variant_id FROM exposures WHERE experiment_id = @ExperimentId", setup)).ToDictionary(e => e.UnitId, e => e.VariantId);
        Assert.NotEmpty(ledger.Exposures);
        Assert.Equal(ledger.Exposures.OrderBy(e => e.Key, StringComparer.Ordinal), stored.OrderBy(e => e.Key, StringComparer.Ordinal));
        var perVariant = stored.GroupBy(e => e.Value).ToDictionary(g => g.Key, g => (long)g.Count());
        var counted = (await file.QueryAsync<(string VariantId, long Units)>(
            "SELECT variant_id, units FROM exposure_counts WHERE experiment_id = @ExperimentId", setup)).ToDictionary(c => c.VariantId, c => c.Units);
        Assert.Equal(perVariant.OrderBy(e => e.Key), counted.OrderBy(e => e.Key));
        Assert.Equal(perVariant.OrderBy(e => e.Key), served.Exposures.Where(e => e.Value > 0).OrderBy(e => e.Key));
    }

    private static string AdminKey(string output) =>
        output.Split('\n').Select(line => line.Trim()).Single(line => line.StartsWith("Created the first admin API key", StringComparison.Ordinal)).Split(' ')[^1];

    private static string Str(JsonNode? node, string property) => node![property]!.GetValue<string>();

    /// <summary>
    /// Sends requests as a careful client does: a request that failed in transit, or a 503, is sent again until answered. It
    /// sends to the server's current address; between <see cref="Down"/> and <see cref="Up"/> new requests wait for it. Once
    /// <paramref name="cancel"/> is cancelled, every request (and wait) ends with an <see cref="OperationCanceledException"/>.
    /// </summary>
    private sealed class Api(HttpClient http, Ledger ledger, Uri server, CancellationToken cancel)
    {
        private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(60);

        private TaskCompletionSource<Uri> _server = CompletedWith(server);

        public Ledger Ledger { get; } = ledger;

        /// <summary>The server was killed: requests from now on wait for <see cref="Up"/> (one sent between the kill and this call is
        /// refused by the released port and sent again).</summary>
        public void Down() => Volatile.Write(ref _server, new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously));

        /// <summary>The server listens again, at <paramref name="address"/>.</summary>
        public void Up(Uri address)
        {
            if (!Volatile.Read(ref _server).TrySetResult(address)) Volatile.Write(ref _server, CompletedWith(address));
        }

        private static TaskCompletionSource<Uri> CompletedWith(Uri address)
        {
            var completed = new TaskCompletionSource<Uri>();
            completed.SetResult(address);
            return completed;
        }

        /// <returns>The body of the 2xx answer.</returns>
        public async Task<JsonNode> SendAsync(HttpMethod method, string path, object? body = null, string? idempotencyKey = null)
        {
            var json = body is null ? null : JsonSerializer.Serialize(body);
            var started = Stopwatch.StartNew();
            while (true)
            {
                Assert.True(started.Elapsed < GiveUpAfter, $"{method} {path} was not answered within {GiveUpAfter.TotalSeconds} s.");
                var address = await Volatile.Read(ref _server).Task.WaitAsync(cancel);
                using var request = new HttpRequestMessage(method, new Uri(address, path));
                if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
                if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
                try
                {
                    using var response = await http.SendAsync(request, cancel);
                    var text = await response.Content.ReadAsStringAsync(cancel);
                    if (response.IsSuccessStatusCode) return JsonNode.Parse(text)!;
                    Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{method} {path} answered {(int)response.StatusCode}: {text}");
                }
                catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
                {
                    // The server is down between a kill and its restart; nothing was sent.
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancel.IsCancellationRequested)
                {
                    // Killed while the request was in flight: it may or may not have been applied. Send it again.
                    Interlocked.Increment(ref Ledger.Interrupted);
                }
                await Task.Delay(50, cancel);
            }
        }
    }

    /// <summary>Every acknowledged write.</summary>
    private sealed class Ledger
    {
        public int Interrupted;

        public ConcurrentBag<(string Prompt, string Id, string Content)> Versions { get; } = [];

        public ConcurrentQueue<(string Label, string Version)> LabelMoves { get; } = new();

        public ConcurrentBag<string> EventIds { get; } = [];

        /// <summary>Acknowledged events per version id.</summary>
        public ConcurrentDictionary<string, long> Events { get; } = new();

        /// <summary>The variant each acknowledged unit was served.</summary>
        public ConcurrentDictionary<string, string> Exposures { get; } = new();

        public ConcurrentBag<string> IdempotencyKeys { get; } = [];

        private (int Versions, int LabelMoves, long Events, int Exposures) Written() =>
            (Versions.Count, LabelMoves.Count, Events.Values.Sum(), Exposures.Count);

        /// <summary>Waits until <paramref name="writes"/> more writes of each kind are acknowledged (a fixed time let a slow
        /// restart leave the next kill with none); fails the test after a minute, or at once with the failure of one of the
        /// <paramref name="writers"/>.</summary>
        public async Task WrittenAsync(int writes, IEnumerable<Task> writers)
        {
            var before = Written();
            await Eventually(async () =>
            {
                // A writer ends only when stopped, after the last wait: one that ended here failed, and its exception ends the wait.
                if (writers.FirstOrDefault(writer => writer.IsCompleted) is { } ended) await ended;
                return Written();
            }, now => now.Versions >= before.Versions + writes
                && now.LabelMoves >= before.LabelMoves + writes && now.Events >= before.Events + writes * EventsPerBatch
                && now.Exposures >= before.Exposures + writes, TimeSpan.FromMinutes(1));
        }
    }

    private sealed record Setup(string PlainVersionId, string ExperimentId, string ControlVariantId, string ControlVersionId)
    {
        public const int LabelTargets = 4;
    }

    /// <summary>What the server reports: events per version, exposed units and target-metric events per variant.</summary>
    private sealed record Served(IReadOnlyDictionary<string, long> VersionCounts, IReadOnlyDictionary<string, long> Exposures, IReadOnlyDictionary<string, long> VariantEvents);
}
