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

    [Fact]
    public async Task Bind_SameValueOrNullAgain_EachRowStoresWhatWasBoundForIt()
    {
        // Rows repeat, change and null each column in turn, and change a column's kind between text, number and NULL.
        (string? Text, long? Number, double? Real)[] rows =
        [
            ("a", 1, 0.5), ("a", 1, 0.5), (null, null, null), (null, null, null), ("a", 2, null), ("b", 2, 1.5),
            ("b", null, 1.5), (null, 3, null), ("a", 3, 2.5), ("a", null, null), ("a", 3, 2.5),
        ];
        await using var connection = await database.Connections.OpenAsync(TestContext.Current.CancellationToken);
        await connection.ExecuteAsync("CREATE TABLE t (text TEXT, number INTEGER, real REAL, mixed ANY) STRICT");

        using (var insert = new SqliteStatement(connection.Handle!, "INSERT INTO t (text, number, real, mixed) VALUES (?1, ?2, ?3, ?4)"))
        {
            for (var i = 0; i < rows.Length; i++)
            {
                insert.Bind(1, rows[i].Text).Bind(2, rows[i].Number).Bind(3, rows[i].Real);
                // The fourth takes text, a number and NULL in turn.
                _ = (i % 3) switch { 0 => insert.Bind(4, rows[i].Text), 1 => insert.Bind(4, rows[i].Number), _ => insert.Bind(4, (string?)null) };
                Assert.Equal(1, insert.Execute());
            }
        }

        var stored = (await connection.QueryAsync<(string? Text, long? Number, double? Real, object? Mixed)>("SELECT text, number, real, mixed FROM t ORDER BY rowid")).ToList();
        Assert.Equal(rows, stored.Select(r => (r.Text, r.Number, r.Real)));
        Assert.Equal(rows.Select((r, i) => (i % 3) switch { 0 => (object?)r.Text, 1 => r.Number, _ => null }), stored.Select(r => r.Mixed));
    }
}
