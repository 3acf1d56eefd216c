using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using PromptVault.Server.Api;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Auth;

/// <summary>
/// Limits failed authentications per client address with ASP.NET Core's rate limiter (<see cref="RateLimits"/>): a request
/// whose key was refused takes a permit from its address's fixed window; beyond the limit it gets 429 with <c>Retry-After</c>.
/// Requests with a valid key or none take no permit, so a flood of bad keys cannot lock out a client that holds a good one.
/// </summary>
internal static class FailedAuthentication
{
    public const string ConfigurationSection = "PromptVault:FailedAuthentication";

    public static void Mark(HttpContext context) => context.Features.Set(Refused.Instance);

    /// <summary>
    /// For a sign-in checked outside the API's authentication handler (the dashboard's <c>/login</c> form): whether the
    /// client's address may still fail (<paramref name="failed"/> false: looks without counting), and when
    /// <paramref name="failed"/>, counts the failure against the same window the API's refused keys use.
    /// </summary>
    public static bool TryFail(HttpContext context, bool failed)
    {
        Mark(context);
        var limiter = context.RequestServices.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter!;
        using var lease = limiter.AttemptAcquire(context, failed ? 1 : 0);
        return lease.IsAcquired;
    }

    // A request feature rather than an Items entry: checking it on every request allocates no Items dictionary.
    internal static bool IsMarked(HttpContext context) => context.Features.Get<Refused>() is not null;

    private sealed class Refused
    {
        public static readonly Refused Instance = new();
    }

    /// <summary>The refused request's window: its client's (partitioned by the connection's address; behind a proxy, configure
    /// ForwardedHeaders so this is the client's).</summary>
    internal static RateLimitPartition<string> Partition(HttpContext context, FixedWindowRateLimiterOptions window) =>
        RateLimitPartition.GetFixedWindowLimiter(ClientOf(context.Connection.RemoteIpAddress), _ => window);

    /// <summary>
    /// The client a refused request counts against: its IPv4 address, or the /64 network of its IPv6 address. One IPv6 client
    /// holds a whole /64 (2^64 addresses, the smallest block a network hands out), so counting per address let it send
    /// unlimited refused keys, each from a new address, and made the limiter keep one window per address it used.
    /// </summary>
    internal static string ClientOf(IPAddress? address)
    {
        if (address is null) return "ip:";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return "ip:" + address;
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return "ip:" + new IPAddress(bytes) + "/64";
    }

    internal static Task RejectAsync(HttpContext context, int retryAfterSeconds) =>
        Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "too_many_failed_authentications",
            $"Too many failed authentications from this address; retry after {retryAfterSeconds} seconds with a valid API key.");
}

/// <summary>How many failed authentications a client address may make per window (section <c>PromptVault:FailedAuthentication</c>).</summary>
internal sealed class FailedAuthenticationOptions
{
    /// <summary>Failed authentications allowed per address and window. Default: 20.</summary>
    [Range(1, 1_000_000)]
    public int PermitLimit { get; set; } = ServerDefaults.FailedAuthenticationPermitLimit;

    /// <summary>The window's length in seconds. Default: 60.</summary>
    [Range(1, 86_400)]
    public int WindowSeconds { get; set; } = ServerDefaults.FailedAuthenticationWindowSeconds;
}
