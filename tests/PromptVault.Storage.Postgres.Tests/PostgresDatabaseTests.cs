using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PromptVault.Core.Audit;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>The schema's migrations, and the service registration.</summary>
public sealed class PostgresDatabaseTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MigrateAsync_TwoInstancesAtOnceOnANewDatabase_BothSucceedAndEachScriptRunsOnce()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        // Two data sources, as two server processes would have.
        await using var first = NpgsqlDataSource.Create(database.ConnectionString);
        await using var second = NpgsqlDataSource.Create(database.ConnectionString);

        // The test holds the migration's lock until both wait for it, so their migrations meet however the tasks are scheduled.
        await using var holder = await database.DataSource.OpenConnectionAsync(Cancel);
        await holder.ExecuteAsync("SELECT pg_advisory_lock(@MigrationLock)", new { PostgresDatabase.MigrationLock });

        var migrating = Task.WhenAll(
            Task.Run(() => new PostgresDatabase(first).MigrateAsync(Cancel), Cancel),
            Task.Run(() => new PostgresDatabase(second).MigrateAsync(Cancel), Cancel));
        await Eventually(() => holder.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'"), n => n == 2);
        await holder.ExecuteAsync("SELECT pg_advisory_unlock(@MigrationLock)", new { PostgresDatabase.MigrationLock });
        var applied = await Eventually(migrating);

        var scripts = PostgresDatabase.Scripts();
        Assert.Equal([0, scripts.Count], applied.Order());
        await using var connection = await first.OpenConnectionAsync(Cancel);
        Assert.Equal(scripts.Select(s => s.Version), await connection.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version"));
    }

    [Fact]
    public async Task MigrateAsync_MigratedDatabaseWithData_AppliesNothingAndKeepsData()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var store = database.CreateStore();
        var prompt = Samples.Prompt("kept");
        await store.SaveAsync(Samples.Created(prompt, Samples.Version(prompt, 1)), Cancel);

        var applied = await new PostgresDatabase(database.DataSource).MigrateAsync(Cancel);

        Assert.Equal(0, applied);
        Assert.NotNull(await store.FindPromptAsync("kept", Cancel));
    }

    [Fact]
    public async Task MigrateAsync_MetricEventIds_UniqueThroughAPartialIndexOnly()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);

        var indexes = (await connection.QueryAsync<string>(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'metric_events' AND indexdef LIKE '%(id)%'")).ToList();

        // Events without an id (most) have no entry; the ids given stay unique.
        Assert.Equal(["CREATE UNIQUE INDEX ux_metric_events_id ON public.metric_events USING btree (id) WHERE (id IS NOT NULL)"], indexes);
    }

    [Fact]
    public async Task MigrateAsync_WebhookDeliveries_IndexedOnlyForTheClaim_NotByDueTime()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);

        var indexes = await connection.QueryAsync<string>(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'webhook_deliveries' AND indexname LIKE 'ix\\_%' ORDER BY indexname");

        // The claim reads each webhook's pending and leased deliveries; nothing asks for the earliest due delivery of all.
        Assert.Equal(["ix_webhook_deliveries_leased", "ix_webhook_deliveries_pending", "ix_webhook_deliveries_webhook"], indexes);
    }

    [Fact]
    public async Task MigrateAsync_DatabaseOfANewerPromptVault_RefusesNamingBothVersions()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using (var connection = await database.DataSource.OpenConnectionAsync(Cancel))
            await connection.ExecuteAsync("INSERT INTO schema_migrations (version, name) VALUES (999, '999_future')");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new PostgresDatabase(database.DataSource).MigrateAsync(Cancel));

        Assert.Contains("schema version 999", error.Message, StringComparison.Ordinal);
        Assert.Contains($"({PostgresDatabase.Scripts().Count})", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateAsync_RestoredByAnAdmin_TheRoleOwnsTheTablesButMayNotCreateInTheSchema_AppliesNothing()
    {
        // A dump restored by an admin into a database it created (docs/deployment.md, Backups): the tables are the servers'
        // role's, the public schema the admin's. Before, the history table's CREATE TABLE IF NOT EXISTS needed the schema's
        // CREATE privilege even though the table was there, so a server with nothing to migrate did not start.
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var role = await RoleThatMayNotCreateAsync(database);
        await using (var connection = await database.DataSource.OpenConnectionAsync(Cancel))
            await connection.ExecuteAsync($"ALTER TABLE schema_migrations OWNER TO {role}");
        await using var asRole = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = role }.ConnectionString);

        Assert.Equal(0, await new PostgresDatabase(asRole).MigrateAsync(Cancel));
    }

    [Fact]
    public async Task MigrateAsync_NewDatabaseTheRoleMayNotCreateIn_RefusesNamingTheRoleTheDatabaseAndTheFix()
    {
        // Before, PostgreSQL's own words: "42501: permission denied for schema public", with no role, database or way out.
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        var role = await RoleThatMayNotCreateAsync(database);
        await using var asRole = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = role }.ConnectionString);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new PostgresDatabase(asRole).MigrateAsync(Cancel));

        var name = new NpgsqlConnectionStringBuilder(database.ConnectionString).Database;
        Assert.StartsWith($"role '{role}' may not create", error.Message, StringComparison.Ordinal);
        Assert.Contains("42501: permission denied for schema public", error.Message, StringComparison.Ordinal);
        Assert.Contains($"ALTER DATABASE {name} OWNER TO {role}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddPromptVaultPostgres_Resolve_OneSingletonStoreForEveryInterface()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        await using var services = new ServiceCollection().AddPromptVaultPostgres(database.ConnectionString).BuildServiceProvider();

        await services.GetRequiredService<PostgresDatabase>().MigrateAsync(Cancel);
        var prompts = services.GetRequiredService<IPromptStore>();

        Assert.IsType<PostgresPromptStore>(prompts);
        Assert.Same(prompts, services.GetRequiredService<IApiKeyStore>());
        Assert.Same(prompts, services.GetRequiredService<IExperimentStore>());
        Assert.Same(prompts, services.GetRequiredService<IMetricStore>());
        Assert.Same(prompts, services.GetRequiredService<IIdempotencyStore>());
        Assert.Same(prompts, services.GetRequiredService<IRegistryArchiveStore>());
        Assert.Empty(await prompts.ListAuditAsync(new AuditQuery(), Cancel));
    }

    [Fact]
    public async Task AddPromptVaultPostgres_PooledConnections_AskTheServerToEndIdleTransactionsAndDropSilentClients_TheirOwnOptionsWin()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        await using var services = new ServiceCollection().AddPromptVaultPostgres(database.ConnectionString).BuildServiceProvider();
        await using var own = new ServiceCollection()
            .AddPromptVaultPostgres(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Options = "-c idle_in_transaction_session_timeout=5s" }.ConnectionString)
            .BuildServiceProvider();

        await using var connection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Cancel);
        foreach (var (setting, value) in new[]
        {
            ("idle_in_transaction_session_timeout", "60000"), ("tcp_keepalives_idle", "10"), ("tcp_keepalives_interval", "5"),
            ("tcp_keepalives_count", "4"), ("tcp_user_timeout", "60000"),
        })
            Assert.Equal((setting, value), (setting, await SettingAsync(connection, setting)));
        await using var theirs = await own.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Cancel);
        Assert.Equal("5000", await SettingAsync(theirs, "idle_in_transaction_session_timeout"));
        Assert.Equal("10", await SettingAsync(theirs, "tcp_keepalives_idle"));
    }

    /// <summary>A new login role that may not create in the database's public schema, as on PostgreSQL 15 and later whatever version runs the tests.</summary>
    private static async Task<string> RoleThatMayNotCreateAsync(PostgresTestDatabase database)
    {
        var role = "server_" + Guid.NewGuid().ToString("N");
        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);
        await connection.ExecuteAsync($"CREATE ROLE {role} LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC");
        return role;
    }

    /// <summary>A setting of the connection's session, in its base unit (milliseconds or seconds).</summary>
    private static Task<string?> SettingAsync(NpgsqlConnection connection, string name) =>
        connection.ExecuteScalarAsync<string>("SELECT setting FROM pg_settings WHERE name = @name", new { name });
}
