using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using PromptVault.Core.Storage;
using SQLitePCL;

namespace PromptVault.Storage.Sqlite;

/// <summary>
/// The write queue's connection, kept open by its writer, with the transaction of the group being written, and the
/// statements of the per-event and per-exposure writes prepared once for the connection's life.
/// </summary>
/// <remarks>
/// Those statements are SQLite's own, bound by position: a command prepared again for every call, and parameters bound
/// by name on each execution, were most of an event's cost. They join the connection's transaction like any statement.
/// </remarks>
internal sealed class SqliteWriteContext(SqliteConnection connection, ExposedUnits exposed) : IAsyncDisposable
{
    private readonly Dictionary<string, SqliteStatement> statements = new(StringComparer.Ordinal);

    public SqliteConnection Connection { get; } = connection;

    /// <summary>The open transaction of the group being written.</summary>
    public SqliteTransaction Transaction { get; set; } = null!;

    /// <summary>The group's changes to the tables derived from events, written once before its commit.</summary>
    public DeferredAnalysis Analysis => analysis ??= new DeferredAnalysis(this);

    private DeferredAnalysis? analysis;

    /// <summary>Records the exposure's unit as exposed in the writer's index, unless it was already (<see cref="ExposedUnits.TryAdd"/>).</summary>
    /// <returns>True when this is the unit's first exposure in the experiment.</returns>
    public bool TryAddExposure(Exposure exposure) => exposed.TryAdd(this, exposure);

    /// <summary>The variant the unit was exposed to in the experiment, or null (<see cref="ExposedUnits.VariantOf"/>).</summary>
    public string? ExposedVariantOf(string experimentId, string unitId) => exposed.VariantOf(this, experimentId, unitId);

    /// <summary>The open write's savepoint was released: its changes join the group's.</summary>
    public void AcceptWrite()
    {
        Analysis.Accept();
        exposed.AcceptWrite();
    }

    /// <summary>The open write was rolled back: its changes are undone.</summary>
    public void RejectWrite()
    {
        Analysis.Reject();
        exposed.RejectWrite();
    }

    /// <summary>The statement of <paramref name="sql"/>, prepared on first use.</summary>
    public SqliteStatement Prepare(string sql)
    {
        if (!statements.TryGetValue(sql, out var statement))
            statements.Add(sql, statement = new SqliteStatement(Connection.Handle!, sql));
        return statement;
    }

    public async ValueTask DisposeAsync()
    {
        // Finalized before the connection goes back to the pool, which would otherwise keep them.
        foreach (var statement in statements.Values)
            statement.Dispose();
        statements.Clear();
        await Connection.DisposeAsync();
    }
}

/// <summary>One prepared SQLite statement: bind its parameters by position (from 1), then run it; it is reset after each run.</summary>
internal sealed class SqliteStatement : IDisposable
{
    private readonly sqlite3 db;
    private readonly sqlite3_stmt statement;

    // Marks a parameter bound to NULL in `bound`.
    private static readonly object BoundNull = new();

    // Text is encoded here and bound as a copy (SQLITE_TRANSIENT): binding a string would allocate its UTF-8 bytes each time.
    private byte[] utf8 = new byte[256];

    // What each parameter (by position) is bound to: a string, BoundNull, or null when it is a number, a blob or a time.
    // Bindings outlive sqlite3_reset, so text or NULL bound again unchanged is skipped: the events of a batch mostly repeat
    // their version, experiment and variant, and leave the same fields null.
    private readonly object?[] bound;

    public SqliteStatement(sqlite3 db, string sql)
    {
        this.db = db;
        Check(raw.sqlite3_prepare_v2(db, sql, out statement));
        bound = new object?[raw.sqlite3_bind_parameter_count(statement) + 1];
    }

    public SqliteStatement Bind(int index, string? value)
    {
        if (value is null)
            return BindNull(index);
        if (bound[index] is string text && string.Equals(text, value, StringComparison.Ordinal))
            return this;
        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (length > utf8.Length)
            utf8 = new byte[length];
        return Bound(index, raw.sqlite3_bind_text(statement, index, utf8.AsSpan(0, Encoding.UTF8.GetBytes(value, utf8))), value);
    }

    /// <summary>Binds a time as <see cref="StoredValues.ToText(DateTimeOffset)"/> writes it, without the string.</summary>
    public SqliteStatement Bind(int index, DateTimeOffset value)
    {
        if (!value.ToUniversalTime().TryFormat(utf8, out var written, StoredValues.TimeFormat, CultureInfo.InvariantCulture))
            throw new InvalidOperationException($"{value:O} did not fit in {utf8.Length} bytes.");
        return Bound(index, raw.sqlite3_bind_text(statement, index, utf8.AsSpan(0, written)), null);
    }

    public SqliteStatement Bind(int index, long? value) =>
        value is { } v ? Bound(index, raw.sqlite3_bind_int64(statement, index, v), null) : BindNull(index);

    public SqliteStatement Bind(int index, double? value) =>
        value is { } v ? Bound(index, raw.sqlite3_bind_double(statement, index, v), null) : BindNull(index);

    public SqliteStatement Bind(int index, bool? value) => Bind(index, value is { } v ? v ? 1L : 0L : null);

    public SqliteStatement Bind(int index, byte[] value) => Bound(index, raw.sqlite3_bind_blob(statement, index, value), null);

    private SqliteStatement BindNull(int index) =>
        bound[index] == BoundNull ? this : Bound(index, raw.sqlite3_bind_null(statement, index), BoundNull);

    private SqliteStatement Bound(int index, int rc, object? value)
    {
        if (rc != raw.SQLITE_OK)
        {
            Array.Clear(bound); // whatever a failed bind left, every parameter is bound again next time
            Check(rc);
        }
        bound[index] = value;
        return this;
    }

    /// <summary>Runs a statement that returns no rows.</summary>
    /// <returns>The number of rows it changed.</returns>
    /// <exception cref="SqliteException">It failed (a constraint, for one); nothing of it was applied.</exception>
    public int Execute()
    {
        try
        {
            var rc = raw.sqlite3_step(statement);
            if (rc != raw.SQLITE_DONE) Check(rc);
            return raw.sqlite3_changes(db);
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    /// <summary>The first column of the first row as a blob; null when there is no row or it is null.</summary>
    public byte[]? QueryBlob() => QueryRow(static s => Blob(s, 0));

    /// <summary>The first row, read by <paramref name="readRow"/> (a static lambda, so no delegate is allocated per call); default when there is none.</summary>
    public T? QueryRow<T>(Func<sqlite3_stmt, T> readRow)
    {
        try
        {
            var rc = raw.sqlite3_step(statement);
            if (rc == raw.SQLITE_ROW) return readRow(statement);
            if (rc != raw.SQLITE_DONE) Check(rc);
            return default;
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    /// <summary>Runs a query, handing each row to <paramref name="readRow"/>.</summary>
    public void ForEachRow(Action<sqlite3_stmt> readRow)
    {
        try
        {
            int rc;
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
                readRow(statement);
            if (rc != raw.SQLITE_DONE) Check(rc);
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    /// <summary>A column as a blob; null when it is null.</summary>
    public static byte[]? Blob(sqlite3_stmt row, int column) =>
        raw.sqlite3_column_type(row, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_blob(row, column).ToArray();

    /// <summary>A column as text; null when it is null.</summary>
    public static string? Text(sqlite3_stmt row, int column) =>
        raw.sqlite3_column_type(row, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_text(row, column).utf8_to_string();

    public void Dispose() => statement.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, db);
    }
}
