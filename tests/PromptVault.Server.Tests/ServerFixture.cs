namespace PromptVault.Server.Tests;

/// <summary>One running server shared by the tests of a class; each test uses its own prompt names.</summary>
public class ServerFixture : IAsyncLifetime
{
    private RunningServer? _server;

    public RunningServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>What the server is started with.</summary>
    protected virtual ServerSetup Setup() => new();

    public async ValueTask InitializeAsync() => _server = await RunningServer.StartAsync(Setup(), TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

/// <summary>A shared server whose log is captured (<see cref="LogCapture"/>), for tests of what the server logs.</summary>
public class LoggedServerFixture : ServerFixture
{
    public LogCapture Logs { get; } = new();

    protected override ServerSetup Setup() => Logs.Setup();
}

/// <summary>
/// A shared server (log captured) whose SQLite store gives up on another connection's lock after <see cref="BusyTimeout"/>, not
/// 10 s: for tests that hold the database locked to see the server answer that it is busy.
/// </summary>
public sealed class BusyStoreServerFixture : LoggedServerFixture
{
    /// <summary>Long enough that the server's own writers, which hold the lock for milliseconds, do not run into it on a loaded machine.</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(2);

    protected override ServerSetup Setup() => base.Setup() with { StoreBusyTimeout = BusyTimeout };
}
