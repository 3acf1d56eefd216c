using Dapper;
using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Core.Idempotency;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Core.Templates;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>
/// Writers of several instances on one database: each instance has its own data source (its own pool), as two server
/// processes would. Where SQLite serialises every write behind one lock, PostgreSQL runs them at once.
/// </summary>
public sealed class PostgresConcurrencyTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateVersionAsync_TwoInstancesAtOnce_DistinctConsecutiveNumbers()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var other = database.OpenInstance();
        var first = Registry(database.CreateStore());
        var second = Registry(other.CreateStore());
        await first.CreatePromptAsync(new CreatePromptRequest("busy", "A busy prompt", PromptType.Template, "Take 0."), "alice", Cancel);

        await Task.WhenAll(Enumerable.Range(1, 40).Select(i => Task.Run(() =>
            (i % 2 == 0 ? first : second).CreateVersionAsync("busy", new CreateVersionRequest($"Take {i}.", ChangeDescription: $"take {i}"), "bob", Cancel), Cancel)));

        IPromptStore store = database.CreateStore();
        var prompt = (await store.FindPromptAsync("busy", Cancel))!;
        var versions = await store.ListVersionsAsync(prompt.Id, Cancel);
        Assert.Equal(Enumerable.Range(1, 41).Reverse(), versions.Select(v => v.Sequence));
        Assert.Equal(41, versions.Select(v => v.Version).Distinct().Count());
        Assert.Equal(41, versions.Select(v => v.Content).Distinct().Count());
        Assert.Equal(42, (await store.ListAuditAsync(new AuditQuery("busy"), Cancel)).Count);
    }

    [Fact]
    public async Task ArchiveAndLabelMoveThroughTwoInstancesAtOnce_NeverLeaveALabelOnAnArchivedVersion()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var other = database.OpenInstance();
        var first = Registry(database.CreateStore());
        var second = Registry(other.CreateStore());

        // Rounds, so the two writes overlap whatever the scheduling; each either lands or is refused as the other's order would.
        for (var round = 0; round < 20; round++)
        {
            var name = $"raced-{round}";
            await first.CreatePromptAsync(new CreatePromptRequest(name, "A raced prompt", PromptType.Template, "Take 0."), "alice", Cancel);
            await first.CreateVersionAsync(name, new CreateVersionRequest("Take 1.", ChangeDescription: "take 1"), "alice", Cancel);

            var outcomes = await AtOnceAsync(() => first.ChangeStatusAsync(name, "1.0.1", VersionStatus.Archived, "alice", cancellationToken: Cancel),
                () => second.MoveLabelAsync(name, "staging", "1.0.1", "bob", cancellationToken: Cancel));
            var version = await first.GetVersionAsync(name, "1.0.1", Cancel);

            Assert.True(version.Status == VersionStatus.Archived != version.Labels.Count > 0, $"round {round}: {version.Status}, labels {string.Join(", ", version.Labels)}");
            string?[] expected = version.Status == VersionStatus.Archived ? [null, "version_archived"] : ["version_labelled", null];
            Assert.Equal(expected, outcomes);
        }
    }

    [Fact]
    public async Task TwoPromotesThroughTwoInstancesThatWouldCloseACycleOfIncludes_OneIsRefused()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var other = database.OpenInstance();
        var first = Registry(database.CreateStore());
        var second = Registry(other.CreateStore());

        // Rounds, so the two promotes overlap whatever the scheduling.
        for (var round = 0; round < 20; round++)
        {
            var (a, b) = ($"a-{round}", $"b-{round}");
            foreach (var name in new[] { a, b })
            {
                await first.CreatePromptAsync(new CreatePromptRequest(name, "", PromptType.System, $"plain {name}"), "alice", Cancel);
                await first.MoveLabelAsync(name, "production", "1.0.0", "alice", cancellationToken: Cancel);
            }
            await first.CreateVersionAsync(a, new CreateVersionRequest($"a with {{{{> {b}}}}}", ChangeDescription: "include b"), "alice", Cancel);
            await first.CreateVersionAsync(b, new CreateVersionRequest($"b with {{{{> {a}}}}}", ChangeDescription: "include a"), "alice", Cancel);

            var outcomes = await AtOnceAsync(() => first.MoveLabelAsync(a, "production", "1.0.1", "alice", cancellationToken: Cancel),
                () => second.MoveLabelAsync(b, "production", "1.0.1", "bob", cancellationToken: Cancel));

            string?[] expected = [null, "reference_cycle"];
            Assert.Equal(expected, outcomes.Order());
        }
    }

    /// <summary>Archiving the version an includer pins (<c>1.0.0</c>), or removing the label it names (<c>strict</c>), while the includer is promoted.</summary>
    [Theory]
    [InlineData("1.0.0", "version_included", "version_archived")]
    [InlineData("strict", "label_included", "reference_not_found")]
    public async Task TakeAwayWhatAnIncluderIncludesAndPromoteItThroughTwoInstancesAtOnce_OneIsRefused(string selector, string takeAwayRefused,
        string promoteRefused)
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var other = database.OpenInstance();
        var first = Registry(database.CreateStore());
        var second = Registry(other.CreateStore());
        var byLabel = selector == "strict";

        // Rounds, so the two writes overlap whatever the scheduling; each either lands or is refused as the other's order would.
        for (var round = 0; round < 20; round++)
        {
            var (guard, includer) = ($"guard-{round}", $"includer-{round}");
            await first.CreatePromptAsync(new CreatePromptRequest(guard, "", PromptType.System, "Be kind."), "alice", Cancel);
            if (byLabel)
                await first.MoveLabelAsync(guard, selector, "1.0.0", "alice", cancellationToken: Cancel);
            await first.CreatePromptAsync(new CreatePromptRequest(includer, "", PromptType.System, "Hello."), "alice", Cancel);
            await first.CreateVersionAsync(includer, new CreateVersionRequest($"Hello. {{{{> {guard}@{selector}}}}}", ChangeDescription: "include the guard"), "alice", Cancel);

            var outcomes = await AtOnceAsync(
                () => byLabel ? first.RemoveLabelAsync(guard, selector, "alice", cancellationToken: Cancel) : first.ChangeStatusAsync(guard, "1.0.0", VersionStatus.Archived, "alice", cancellationToken: Cancel),
                () => second.MoveLabelAsync(includer, "production", "1.0.1", "bob", cancellationToken: Cancel));

            var takenAway = byLabel
                ? !(await first.GetPromptAsync(guard, Cancel)).Labels.ContainsKey(selector)
                : (await first.GetVersionAsync(guard, "1.0.0", Cancel)).Status == VersionStatus.Archived;
            string?[] expected = takenAway ? [null, promoteRefused] : [takeAwayRefused, null];
            Assert.Equal(expected, outcomes);
        }
    }

    /// <summary>The label writes' <c>If-Match</c> (expected version numbers) on PostgreSQL: each lands from the version it names, and a stale one changes nothing.</summary>
    [Fact]
    public async Task LabelWritesWithAnExpectedVersion_LandOnlyFromIt_AStaleOneIsLabelMovedAndWritesNothing()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var store = database.CreateStore();
        var registry = Registry(store);
        await ThreeVersionsAsync(registry, "guarded");
        await registry.MoveLabelAsync("guarded", "staging", "1.0.0", "alice", cancellationToken: Cancel);
        await registry.MoveLabelAsync("guarded", "production", "1.0.0", "alice", cancellationToken: Cancel);
        var audited = (await store.ListAuditAsync(new AuditQuery("guarded"), Cancel)).Count;

        var staleMove = await Assert.ThrowsAsync<PreconditionFailedException>(() => registry.MoveLabelAsync("guarded", "staging", "1.0.2", "bob", "1.0.1", Cancel));
        var staleRemove = await Assert.ThrowsAsync<PreconditionFailedException>(() => registry.RemoveLabelAsync("guarded", "staging", "bob", "1.0.1", Cancel));
        var staleRollback = await Assert.ThrowsAsync<PreconditionFailedException>(() => registry.RollbackAsync("guarded", "1.0.1", null, "bob", "1.0.2", Cancel));
        var stalePromote = await Assert.ThrowsAsync<PreconditionFailedException>(() =>
            registry.ChangeStatusAsync("guarded", "1.0.2", VersionStatus.Production, "bob", "1.0.1", Cancel));

        Assert.All(new[] { staleMove, staleRemove, staleRollback, stalePromote }, e => Assert.Equal("label_moved", e.Code));
        var untouched = await registry.GetPromptAsync("guarded", Cancel);
        Assert.Equal(("1.0.0", "1.0.0", "1.0.2"), (untouched.Labels["staging"], untouched.Labels["production"], untouched.LatestVersion.Version));
        Assert.Equal(audited, (await store.ListAuditAsync(new AuditQuery("guarded"), Cancel)).Count);

        await registry.MoveLabelAsync("guarded", "staging", "1.0.1", "bob", "1.0.0", Cancel);
        await registry.RemoveLabelAsync("guarded", "staging", "bob", "1.0.1", Cancel);
        var rolledBack = await registry.RollbackAsync("guarded", "1.0.1", null, "bob", "1.0.0", Cancel);

        var after = await registry.GetPromptAsync("guarded", Cancel);
        Assert.False(after.Labels.ContainsKey("staging"));
        Assert.Equal(("1.0.3", "1.0.3"), (rolledBack.Version, after.Labels["production"]));
    }

    /// <summary>Two moves from one reading through two instances: the label at 1.0.0 (<c>If-Match</c>), or not set (null:
    /// <c>If-None-Match: *</c>, two first deploys). The store's write expects the label where it was read, absent included.</summary>
    [Theory]
    [InlineData("1.0.0")]
    [InlineData(null)]
    public async Task TwoLabelMovesFromTheSameExpectationThroughTwoInstancesAtOnce_OneLandsTheOtherIsLabelMoved(string? read)
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var other = database.OpenInstance();
        var store = database.CreateStore();
        var first = Registry(store);
        var second = Registry(other.CreateStore());
        var expected = read is null ? LabelExpectation.Absent : LabelExpectation.At(read);

        // Rounds, so the two moves overlap whatever the scheduling: both may read the label where it was, only the store's write can refuse the later.
        for (var round = 0; round < 20; round++)
        {
            var name = $"contested-{round}";
            await ThreeVersionsAsync(first, name);
            if (read is not null) await first.MoveLabelAsync(name, "staging", read, "alice", cancellationToken: Cancel);

            var outcomes = await AtOnceAsync(() => first.MoveLabelAsync(name, "staging", "1.0.1", "alice", expected, Cancel),
                () => second.MoveLabelAsync(name, "staging", "1.0.2", "bob", expected, Cancel));

            var landed = (await first.GetPromptAsync(name, Cancel)).Labels["staging"];
            string?[] refused = landed == "1.0.1" ? [null, "label_moved"] : ["label_moved", null];
            Assert.Equal(refused, outcomes);
            Assert.Single(await store.ListAuditAsync(new AuditQuery(name), Cancel), e => e.Action == AuditActions.LabelMoved && e.After?["version"] != "1.0.0");
        }
    }

    /// <summary>Creates <paramref name="name"/> with versions 1.0.0, 1.0.1 and 1.0.2.</summary>
    private static async Task ThreeVersionsAsync(PromptRegistry registry, string name)
    {
        await registry.CreatePromptAsync(new CreatePromptRequest(name, "A guarded prompt", PromptType.Template, "Take 0."), "alice", Cancel);
        await registry.CreateVersionAsync(name, new CreateVersionRequest("Take 1.", ChangeDescription: "take 1"), "alice", Cancel);
        await registry.CreateVersionAsync(name, new CreateVersionRequest("Take 2.", ChangeDescription: "take 2"), "alice", Cancel);
    }

    /// <summary>Runs both writes at once; for each, the code of the refusal (<see cref="PromptVaultException"/>) it ends in, or null when it succeeds.</summary>
    private static Task<string?[]> AtOnceAsync(Func<Task> first, Func<Task> second)
    {
        static async Task<string?> Refusal(Func<Task> write)
        {
            try
            {
                await write();
                return null;
            }
            catch (PromptVaultException e)
            {
                return e.Code;
            }
        }

        return Task.WhenAll(Task.Run(() => Refusal(first), Cancel), Task.Run(() => Refusal(second), Cancel));
    }

    [Fact]
    public async Task RevokeKeyAsync_TwoAdminsRevokingEachOtherThroughTwoInstances_OneStays()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var other = database.OpenInstance();
        IApiKeyStore[] instances = [database.CreateStore(), other.CreateStore()];
        var remaining = await CreateAdminAsync(instances[0], "first");

        // Rounds, so the two revocations overlap at least once whatever the scheduling.
        for (var round = 0; round < 10; round++)
        {
            var added = await CreateAdminAsync(instances[0], $"round-{round}");
            var outcomes = await Task.WhenAll(new[] { remaining, added }.Select((key, i) => Task.Run(async () =>
            {
                try
                {
                    return await instances[i].RevokeKeyAsync(key.Id, Now, Audit(AuditActions.ApiKeyRevoked, null, key.Id), Cancel);
                }
                catch (ConflictException e) when (e.Code == "last_admin_key")
                {
                    return false;
                }
            }, Cancel)));

            Assert.Equal(1, outcomes.Count(revoked => revoked));
            Assert.True(await instances[1].AnyActiveAdminKeyAsync(Cancel));
            remaining = outcomes[0] ? added : remaining;
        }
    }

    [Fact]
    public async Task CreateFirstAdminKeyAsync_ManyInstancesAtOnceOnANewDatabase_OneKey()
    {
        // Servers started at once on a new database each try to create "the first" admin key.
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var others = Enumerable.Range(0, 3).Select(_ => database.OpenInstance()).ToList();
        try
        {
            IApiKeyStore[] instances = [database.CreateStore(), .. others.Select(o => o.CreateStore())];
            using var start = new Barrier(instances.Length * 2);
            var created = await Task.WhenAll(Enumerable.Range(0, instances.Length * 2).Select(i => Task.Run(async () =>
            {
                var key = new ApiKey(NewId(), "admin", ApiKeyRole.Admin, $"pv_{i:D4}", Now, "serve", null);
                start.SignalAndWait(Cancel);
                return await instances[i % instances.Length].CreateFirstAdminKeyAsync(key, $"hash-{i}", Audit(AuditActions.ApiKeyCreated, null, key.Id), Cancel);
            }, Cancel)));

            Assert.Equal(1, created.Count(c => c));
            Assert.Single(await instances[0].ListKeysAsync(Cancel));
        }
        finally
        {
            foreach (var other in others)
                await other.DisposeAsync();
        }
    }

    [Fact]
    public async Task SaveAsync_DeadlockedWithAnotherWriter_ThrowsConcurrentWriteSoTheRegistryRetries()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var store = database.CreateStore();
        var (_, first, second) = await SeedPromptAsync(store, "crossed");
        await using var other = await database.DataSource.OpenConnectionAsync(Cancel);
        // The store's session detects the deadlock (after the default 1 s) long before this one would, so it is the one rolled back.
        await other.ExecuteAsync("SET deadlock_timeout = '30s'");
        await using var transaction = await other.BeginTransactionAsync(Cancel);
        await other.ExecuteAsync("UPDATE versions SET status = status WHERE id = @Id", new { second.Id }, transaction);

        var save = store.SaveAsync(new PromptChanges
        {
            StatusChanges = [new StatusChange(first.Id, VersionStatus.Draft, VersionStatus.Review), new StatusChange(second.Id, VersionStatus.Draft, VersionStatus.Review)],
        }, Cancel);
        // Asked outside that transaction, which would keep the first answer (statistics are read once per transaction).
        await using var waiting = database.DataSource.CreateCommand(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock')");
        await Eventually(async () => (bool)(await waiting.ExecuteScalarAsync(Cancel))!);
        var crossing = other.ExecuteAsync("UPDATE versions SET status = status WHERE id = @Id", new { first.Id }, transaction);

        await Assert.ThrowsAsync<ConcurrentWriteException>(() => save);
        await crossing;
        await transaction.RollbackAsync(Cancel);
        Assert.Equal(VersionStatus.Draft, (await store.FindAnyVersionAsync(first.Id, Cancel))!.Status);
    }

    private static async Task<ApiKey> CreateAdminAsync(IApiKeyStore keys, string name)
    {
        var key = new ApiKey(NewId(), name, ApiKeyRole.Admin, "pv_" + name, Now, "setup", null);
        await keys.CreateKeyAsync(key, "hash-" + key.Id, Audit(AuditActions.ApiKeyCreated, null, key.Id), Cancel);
        return key;
    }

    private static PromptRegistry Registry(PostgresPromptStore store)
    {
        var changes = new RegistryChangeFeed();
        return new PromptRegistry(store, store, store, new TemplateEngine(), TimeProvider.System, new IdempotentRequests(store, TimeProvider.System),
            new RegistryCache(store, store, store, changes), changes);
    }
}
