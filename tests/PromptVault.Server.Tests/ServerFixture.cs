namespace PromptVault.Server.Tests;

/// <summary>One running server shared by the tests of a class; each test uses its own prompt names.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private RunningServer? _server;

    public RunningServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async ValueTask InitializeAsync() => _server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

/// <summary>A shared server whose log is captured (<see cref="LogCapture"/>), for tests of what the server logs.</summary>
public sealed class LoggedServerFixture : IAsyncLifetime
{
    private RunningServer? _server;

    public LogCapture Logs { get; } = new();

    public RunningServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async ValueTask InitializeAsync() => _server = await RunningServer.StartAsync(Logs.Setup(), TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
