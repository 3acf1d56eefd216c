using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>A loopback TCP relay to PostgreSQL whose open connections can be told to stop forwarding without being closed.</summary>
internal sealed class StallingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient Client, TcpClient Server, StrongBox<bool> Stalled)> _pairs = [];
    private readonly List<Task> _pumps = [];
    private readonly Task _accepting;

    public StallingRelay(string host, int port)
    {
        _listener.Start();
        _accepting = AcceptAsync(host, port);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections
    {
        get { lock (_pairs) return _pairs.Count; }
    }

    /// <summary>Every connection open now drops what either side sends from here on; later ones forward.</summary>
    public void Stall()
    {
        lock (_pairs)
            foreach (var pair in _pairs)
                Volatile.Write(ref pair.Stalled.Value, true);
    }

    private async Task AcceptAsync(string host, int port)
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var server = new TcpClient();
                await server.ConnectAsync(host, port, _stop.Token);
                var stalled = new StrongBox<bool>();
                lock (_pairs)
                {
                    _pairs.Add((client, server, stalled));
                    _pumps.Add(PumpAsync(client, server, stalled));
                    _pumps.Add(PumpAsync(server, client, stalled));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, StrongBox<bool> stalled)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.GetStream().ReadAsync(buffer, _stop.Token)) > 0)
                if (!Volatile.Read(ref stalled.Value))
                    await to.GetStream().WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        from.Dispose();
        to.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_pairs)
            foreach (var (client, server, _) in _pairs)
            {
                client.Dispose();
                server.Dispose();
            }
        await Task.WhenAll(_pumps);
        _stop.Dispose();
    }
}
