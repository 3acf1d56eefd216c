using System.Net;
using System.Net.Sockets;

namespace PromptVault.Server.Webhooks;

/// <summary>
/// Where deliveries may connect. An admin registers any URL, and the dispatcher reports each attempt's status code or error, so an
/// unchecked URL would let a key probe the server's own network: its loopback services, and the cloud metadata service that hands
/// out the machine's credentials (169.254.169.254). The check runs as the connection is made, on the address the name resolved to,
/// so a name that resolves elsewhere later (DNS rebinding) is checked again at each attempt.
/// </summary>
internal static class WebhookDestinations
{
    // Cloud metadata services outside the link-local range: AWS's over IPv6 and Alibaba Cloud's.
    private static readonly IPAddress[] MetadataServices = [IPAddress.Parse("fd00:ec2::254"), IPAddress.Parse("100.100.100.200")];

    // NAT64's well-known prefix (64:ff9b::/96, RFC 6052), whose last 32 bits are the IPv4 address a gateway connects to.
    private static readonly byte[] Nat64Prefix = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>
    /// Why a delivery may not connect to <paramref name="address"/> under <paramref name="options"/>' AllowLoopback and
    /// AllowPrivateNetworks, or null when it may. An IPv6 address that carries an IPv4 one (IPv4-mapped, NAT64, 6to4, Teredo)
    /// reaches that IPv4 address, so that address is judged.
    /// </summary>
    public static string? Refusal(IPAddress address, WebhookOptions options) =>
        EmbeddedIPv4(address) is { } embedded
            ? Refusal(embedded, options) is { } why ? $"an IPv6 form of {embedded}, {why}" : null
            : Refusal4Or6(address, options);

    /// <summary>The IPv4 address an IPv6 one carries: ::ffff:0:0/96 (IPv4-mapped), 64:ff9b::/96 (NAT64), 2002::/16 (6to4),
    /// 2001::/32 (Teredo: the client's address, inverted, in the last 32 bits).</summary>
    internal static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return null;
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        var bytes = address.GetAddressBytes();
        if (bytes.AsSpan(0, 12).SequenceEqual(Nat64Prefix)) return new IPAddress(bytes.AsSpan(12, 4));
        if (bytes[0] == 0x20 && bytes[1] == 0x02) return new IPAddress(bytes.AsSpan(2, 4));
        if (address.IsIPv6Teredo) return new IPAddress([(byte)~bytes[12], (byte)~bytes[13], (byte)~bytes[14], (byte)~bytes[15]]);
        return null;
    }

    private static string? Refusal4Or6(IPAddress address, WebhookOptions options)
    {
        if (IPAddress.IsLoopback(address))
            return options.AllowLoopback ? null : "a loopback address (set PromptVault:Webhooks:AllowLoopback to allow it)";
        if (MetadataServices.Contains(address)) return "a cloud metadata service";
        var bytes = address.GetAddressBytes();
        var refused = address.AddressFamily == AddressFamily.InterNetwork
            ? bytes[0] == 0 || (bytes[0] == 169 && bytes[1] == 254) || bytes[0] >= 224
            : address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6Multicast;
        if (refused) return "a link-local, unspecified, multicast or broadcast address";
        return !options.AllowPrivateNetworks && IsPrivate(address)
            ? "a private network address, refused while PromptVault:Webhooks:AllowPrivateNetworks is false"
            : null;
    }

    /// <summary>10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT) and fc00::/7 (unique local).</summary>
    private static bool IsPrivate(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork) return address.IsIPv6UniqueLocal;
        var bytes = address.GetAddressBytes();
        return bytes[0] == 10 || (bytes[0] == 172 && (bytes[1] & 0xF0) == 16) || (bytes[0] == 192 && bytes[1] == 168)
            || (bytes[0] == 100 && (bytes[1] & 0xC0) == 64);
    }

    /// <summary>
    /// The connection of <see cref="SocketsHttpHandler.ConnectCallback"/>: to the first address of the URL's host that
    /// <see cref="Refusal"/> allows, else an error naming the address and why. A connection to an HTTP proxy (HTTP_PROXY,
    /// HTTPS_PROXY) is not checked: the proxy, the operator's own, decides where it forwards.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, WebhookOptions options, CancellationToken cancellationToken)
    {
        var target = context.DnsEndPoint;
        var viaProxy = !string.Equals(target.Host.Trim('[', ']'), context.InitialRequestMessage.RequestUri?.IdnHost.Trim('[', ']'),
            StringComparison.OrdinalIgnoreCase);
        var named = !IPAddress.TryParse(target.Host, out var literal);
        IPAddress[] addresses = named ? await Dns.GetHostAddressesAsync(target.Host, cancellationToken) : [literal!];
        var allowed = viaProxy ? addresses : addresses.Where(a => Refusal(a, options) is null).ToArray();
        if (allowed.Length == 0)
        {
            var first = addresses.FirstOrDefault();
            throw new HttpRequestException(first is null ? $"'{target.Host}' resolves to no address"
                : $"{(named ? $"'{target.Host}' resolves to {first}, " : $"{first} is ")}{Refusal(first, options)}, which webhook deliveries may not reach");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, target.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
