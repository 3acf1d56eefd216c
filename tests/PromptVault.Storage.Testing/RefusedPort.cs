using System.Net;
using System.Net.Sockets;

namespace PromptVault.Storage.Testing;

/// <summary>
/// A loopback port a test needs nothing to listen on (a server down, a database unreachable). It is bound, not listened on,
/// for as long as this is held: a connection to it is refused, and no other process can take it meanwhile, as one of the
/// parallel test processes could take a port picked free and released.
/// </summary>
public sealed class RefusedPort : IDisposable
{
    private readonly Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public RefusedPort()
    {
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public Uri Url => new($"http://127.0.0.1:{Port}");

    public void Dispose() => socket.Dispose();
}
