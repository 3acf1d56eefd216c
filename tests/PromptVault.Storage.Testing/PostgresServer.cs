using System.Diagnostics;
using Npgsql;
using PromptVault.Storage.Postgres;

namespace PromptVault.Storage.Testing;

/// <summary>
/// One throwaway PostgreSQL server per test process, started on first use with Debian's <c>initdb</c>/<c>pg_ctl</c> in a
/// temporary folder (127.0.0.1 on a free port, trust authentication, no fsync), and stopped and deleted when the process
/// exits. Each test takes a database of its own: <see cref="CreateDatabaseAsync"/>.
/// </summary>
/// <remarks>
/// Without the binaries (PATH, then /usr/lib/postgresql/*/bin) the test calling it is skipped, saying why. initdb refuses
/// to run as root, so under root (here and in CI) the server runs as the <c>postgres</c> user through <c>runuser</c>.
/// </remarks>
public static class PostgresServer
{
    private const string User = "postgres";
    private const string MigratedTemplate = "promptvault_template";

    private static readonly Lazy<Task<Server?>> Started = new(StartAsync);
    private static readonly SemaphoreSlim Creating = new(1, 1);
    private static int databases;

    /// <summary>
    /// A new database of its own for the calling test, migrated by <see cref="PostgresDatabase.MigrateAsync"/> unless
    /// <paramref name="migrated"/> is false (then it is empty). Dispose it to drop it.
    /// </summary>
    /// <remarks>Skips the calling test (<see cref="Assert.Skip"/>) when the PostgreSQL server binaries are not installed.</remarks>
    public static async Task<PostgresTestDatabase> CreateDatabaseAsync(bool migrated = true, CancellationToken cancellationToken = default)
    {
        var server = await Started.Value;
        if (server is null)
            Assert.Skip("PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin): install Debian's postgresql package to run these tests.");
        var name = $"test_{Environment.ProcessId}_{Interlocked.Increment(ref databases)}";
        // CREATE DATABASE copies its template, which must have no other session meanwhile: one at a time.
        await Creating.WaitAsync(cancellationToken);
        try
        {
            await using var admin = await server.Admin.OpenConnectionAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE {(migrated ? MigratedTemplate : "template0")}", admin);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            Creating.Release();
        }
        return new PostgresTestDatabase(server.ConnectionString(name), name, server.Admin);
    }

    private static async Task<Server?> StartAsync()
    {
        if (FindBinaries() is not { } bin) return null;

        var directory = Path.Combine(Path.GetTempPath(), "promptvault-postgres", $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        var data = Path.Combine(directory, "data");
        Directory.CreateDirectory(directory);
        var asRoot = Environment.IsPrivilegedProcess;
        // Before anything can fail: a start that throws (pg_ctl giving up waiting on a server that then comes up) leaves nothing behind.
        StartWatchdog(bin, directory, data, asRoot);
        if (asRoot) await RunAsync("chown", ["-R", $"{User}:", directory], directory);

        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", User, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], directory, asRoot);
        var server = new Server(await StartOnFreePortAsync(bin, directory, data, asRoot));

        await using (var admin = await server.Admin.OpenConnectionAsync())
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {MigratedTemplate}", admin))
            await create.ExecuteNonQueryAsync();
        // A non-pooled connection: the template must have no session left once migrated.
        var template = new NpgsqlConnectionStringBuilder(server.ConnectionString(MigratedTemplate)) { Pooling = false }.ConnectionString;
        await using (var source = NpgsqlDataSource.Create(template))
            await new PostgresDatabase(source).MigrateAsync();
        return server;
    }

    /// <summary>
    /// Stops the server and deletes its folder once this process is gone, however it ended: a detached shell polls for it
    /// every second. Not in a ProcessExit handler too: a killed run has none, and stopping the server and deleting every test's
    /// database there kept the test process alive for seconds after its last test (xUnit: "Waiting 10 seconds for
    /// foreground threads to exit...").
    /// </summary>
    private static void StartWatchdog(string bin, string directory, string data, bool asRoot)
    {
        var stop = $"{(asRoot ? $"runuser -u {User} -- " : "")}{Quote(Path.Combine(bin, "pg_ctl"))} -D {Quote(data)} -m immediate stop";
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var word in new[] { "sh", "-c", $"exec >/dev/null 2>&1 </dev/null; while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; {stop}; rm -rf {Quote(directory)}" })
            start.ArgumentList.Add(word);
        using var watchdog = Process.Start(start)!;
    }

    private static string? FindBinaries()
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d, StringComparer.Ordinal).Select(d => Path.Combine(d, "bin"))
                : []);
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    /// <summary>
    /// Starts the server on a random port; when that is taken (PostgreSQL cannot be given port 0 to choose one), on another.
    /// The ports are below Linux's ephemeral range (32768-60999), from which the parallel test processes' connections and
    /// port-0 listeners draw.
    /// </summary>
    /// <returns>The port the server listens on.</returns>
    private static async Task<int> StartOnFreePortAsync(string bin, string directory, string data, bool asRoot)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = Random.Shared.Next(20_000, 32_000);
            // A fresh server log per attempt, so the error below and the check of it are this attempt's.
            File.Delete(Path.Combine(directory, "server.log"));
            var options = $"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300";
            try
            {
                await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(directory, "server.log"), "-o", options, "-w", "start"], directory, asRoot);
                return port;
            }
            catch (InvalidOperationException e) when (attempt < 10 && e.Message.Contains("could not bind IPv4 address \"127.0.0.1\": Address already in use", StringComparison.Ordinal))
            {
                // Taken: try another.
            }
        }
    }

    /// <summary>Runs a command to its end, as the postgres user when <paramref name="asPostgres"/>; its output goes to a log in <paramref name="directory"/>.</summary>
    /// <exception cref="InvalidOperationException">It failed; the message holds its output.</exception>
    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, string directory, bool asPostgres = false)
    {
        // Output goes to a file, not a pipe: pg_ctl's server inherits the handles and would keep a pipe open forever.
        var log = Path.Combine(directory, "commands.log");
        var start = new ProcessStartInfo("sh") { UseShellExecute = false, WorkingDirectory = directory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("\"$@\" >>" + Quote(log) + " 2>&1");
        start.ArgumentList.Add("sh");
        if (asPostgres)
        {
            foreach (var word in new[] { "runuser", "-u", User, "--" }) start.ArgumentList.Add(word);
        }
        start.ArgumentList.Add(program);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);

        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await ReadLogAsync(directory)}");
    }

    private static async Task<string> ReadLogAsync(string directory)
    {
        var text = "";
        foreach (var name in new[] { "commands.log", "server.log" })
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path)) text += await File.ReadAllTextAsync(path);
        }
        return text;
    }

    private static string Quote(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private sealed class Server
    {
        private readonly int port;

        public Server(int port)
        {
            this.port = port;
            Admin = NpgsqlDataSource.Create(ConnectionString("postgres"));
        }

        /// <summary>Connections to the <c>postgres</c> database, to create and drop the tests' databases.</summary>
        public NpgsqlDataSource Admin { get; }

        public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port, Username = User, Database = database, IncludeErrorDetail = true,
        }.ConnectionString;
    }
}

/// <summary>A test's own database on the <see cref="PostgresServer"/>; disposing it drops the database.</summary>
public sealed class PostgresTestDatabase : IAsyncDisposable
{
    private readonly string? name; // null for another instance's view, which does not drop the database
    private readonly NpgsqlDataSource admin;
    private readonly Lazy<NpgsqlDataSource> dataSource;
    private readonly List<PostgresPromptStore> stores = [];

    internal PostgresTestDatabase(string connectionString, string? name, NpgsqlDataSource admin)
    {
        ConnectionString = connectionString;
        this.name = name;
        this.admin = admin;
        dataSource = new Lazy<NpgsqlDataSource>(() => NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(connectionString) { Timeout = PoolWaitSeconds }.ConnectionString));
    }

    /// <summary>
    /// How long a call of <see cref="DataSource"/> waits for a pooled connection (Npgsql's <c>Timeout</c>, 15 s by default). A
    /// test may start more calls than the pool holds (100) that queue for one lock, and on a loaded machine the last of
    /// them waited longer than 15 s for a connection the others were bound to free. A test of pool exhaustion sets its own.
    /// </summary>
    private const int PoolWaitSeconds = 300;

    /// <summary>An Npgsql connection string to the database (what <c>serve --postgres</c> takes).</summary>
    public string ConnectionString { get; }

    /// <summary>A data source of the database, made on first use and disposed with it.</summary>
    public NpgsqlDataSource DataSource => dataSource.Value;

    /// <summary>
    /// Another view of the same database with a data source (a pool) of its own, as a second server instance would have;
    /// disposing it disposes its stores and data source, not the database.
    /// </summary>
    public PostgresTestDatabase OpenInstance() => new(ConnectionString, null, admin);

    /// <summary>A store over <see cref="DataSource"/>, disposed with the database.</summary>
    public PostgresPromptStore CreateStore()
    {
        var store = new PostgresPromptStore(DataSource);
        stores.Add(store);
        return store;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in stores) await store.DisposeAsync();
        if (dataSource.IsValueCreated) await dataSource.Value.DisposeAsync();
        if (name is null) return;
        await using var connection = await admin.OpenConnectionAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
