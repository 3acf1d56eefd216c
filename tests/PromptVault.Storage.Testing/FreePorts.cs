using System.Net;
using System.Net.Sockets;

namespace PromptVault.Storage.Testing;

/// <summary>Ports for servers a test starts in another process (PostgreSQL, <c>promptvault serve</c>), which binds its port some time after it is picked.</summary>
public static class FreePorts
{
    /// <summary>
    /// A port free now, below Linux's ephemeral range (32768-60999). The parallel test processes' outgoing connections and
    /// port-0 listeners draw from that range, and one of them once took a port picked there before the server bound it.
    /// </summary>
    public static int Pick()
    {
        while (true)
        {
            var port = Random.Shared.Next(20_000, 32_000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }
    }
}
