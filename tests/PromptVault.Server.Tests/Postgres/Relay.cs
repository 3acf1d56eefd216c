using System.Net;
using System.Net.Sockets;

namespace PromptVault.Server.Tests.Postgres;

/// <summary>A loopback TCP relay to PostgreSQL that can be cut (its listener stopped, every connection closed) and resumed on the same port.</summary>
public sealed class Relay : IAsyncDisposable
{
    private readonly string _host;
    private readonly int _targetPort;
    private readonly List<TcpClient> _open = [];
    // Bound for the relay's life and never listening: while the relay is cut its port stays taken, so no other process (the
    // parallel test processes bind port 0 and connect out all the time) can take it before Resume listens on it again.
    private readonly Socket _port = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private TcpListener _listener;
    private CancellationTokenSource _stop = new();
    private Task _accepting;

    public Relay(string host, int targetPort)
    {
        (_host, _targetPort) = (host, targetPort);
        // The listener may bind the port beside this socket because this one never listens (both allow reuse); while no
        // listener is bound to it, a connection to the port is refused, as when the database is down.
        _port.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _port.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_port.LocalEndPoint!).Port;
        _listener = Listen();
        _accepting = AcceptAsync(_listener, _stop.Token);
    }

    public int Port { get; }

    public async Task CutAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_open)
        {
            foreach (var socket in _open)
                socket.Dispose();
            _open.Clear();
        }
    }

    public void Resume()
    {
        _stop = new CancellationTokenSource();
        _listener = Listen();
        _accepting = AcceptAsync(_listener, _stop.Token);
    }

    private TcpListener Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        return listener;
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync(stop);
                var server = new TcpClient();
                await server.ConnectAsync(_host, _targetPort, stop);
                lock (_open) _open.AddRange([client, server]);
                _ = PumpAsync(client, server);
                _ = PumpAsync(server, client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream());
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or SocketException)
        {
        }
        from.Dispose();
        to.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await CutAsync();
        _port.Dispose();
        _stop.Dispose();
    }
}
