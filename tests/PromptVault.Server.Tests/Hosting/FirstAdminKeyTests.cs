using Microsoft.Data.Sqlite;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Tests.Hosting;

/// <summary>The first admin key is made whenever no ACTIVE admin key exists: revoked keys and other roles do not count.</summary>
public sealed class FirstAdminKeyTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Initialize_EveryAdminKeyRevoked_CreatesANewAdminKey_OnceOnly()
    {
        var folder = Directory.CreateTempSubdirectory("promptvault-test-").FullName;
        try
        {
            var database = Path.Combine(folder, "promptvault.db");
            await using var app = PromptVaultServer.Build(new ServerOptions { DatabasePath = database, Urls = "http://127.0.0.1:0" });
            var first = await PromptVaultServer.InitializeAsync(app, Cancel);
            // A database from before the last admin key was protected: its only admin key revoked, a writer left.
            await ExecuteAsync(database, "UPDATE api_keys SET revoked_at = '2026-01-01T00:00:00.0000000+00:00'");
            await ExecuteAsync(database, """
                INSERT INTO api_keys (id, name, role, prefix, key_hash, created_at, created_by, revoked_at)
                VALUES ('w1', 'ci', 'writer', 'pv_x', 'hash-w1', '2026-01-01T00:00:00.0000000+00:00', 'admin', NULL)
                """);

            var second = await PromptVaultServer.InitializeAsync(app, Cancel);
            var third = await PromptVaultServer.InitializeAsync(app, Cancel);

            Assert.NotNull(first);
            Assert.NotNull(second);
            Assert.NotEqual(first.Key, second.Key);
            Assert.Null(third);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        await connection.OpenAsync(Cancel);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Cancel);
    }
}
