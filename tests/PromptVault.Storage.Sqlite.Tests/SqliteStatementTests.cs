using Dapper;

namespace PromptVault.Storage.Sqlite.Tests;

/// <summary>The writer's prepared statements bind text and times exactly as the rest of the store writes them.</summary>
public sealed class SqliteStatementTests : IDisposable
{
    private readonly TempDatabase database = new();

    public void Dispose() => database.Dispose();

    [Fact]
    public async Task Bind_TextAndTimes_StoredAsTheStoreWritesThem_LongTextToo()
    {
        var at = new DateTimeOffset(2026, 12, 1, 12, 30, 15, TimeSpan.FromHours(2)).AddTicks(1234567);
        var texts = new[] { "unit-1", "héllo – ✓ 😀", new string('x', 1_000) };
        await using var connection = await database.Connections.OpenAsync(TestContext.Current.CancellationToken);
        await connection.ExecuteAsync("CREATE TABLE t (text TEXT NOT NULL, at TEXT NOT NULL)");

        using (var insert = new SqliteStatement(connection.Handle!, "INSERT INTO t (text, at) VALUES (?1, ?2)"))
        {
            foreach (var text in texts)
                Assert.Equal(1, insert.Bind(1, text).Bind(2, at).Execute());
        }

        var rows = (await connection.QueryAsync<(string Text, string At)>("SELECT text, at FROM t ORDER BY rowid")).ToList();
        Assert.Equal(texts, rows.Select(r => r.Text));
        Assert.All(rows, r => Assert.Equal(StoredValues.ToText(at), r.At));
        Assert.Equal("2026-12-01T10:30:15.1234567+00:00", rows[0].At);
    }
}
