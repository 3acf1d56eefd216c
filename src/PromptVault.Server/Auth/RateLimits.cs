using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using PromptVault.Server.Api;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Auth;

/// <summary>
/// ASP.NET Core's rate limiter, for three limits: failed authentications per client address (<see cref="FailedAuthentication"/>),
/// requests per API key (<see cref="KeyLimitsOptions.RequestsPerWindow"/>, off unless configured) and open SDK streams per API
/// key (<see cref="KeyLimitsOptions.SdkStreams"/>). Over a limit: 429 problem+json.
/// </summary>
internal static class RateLimits
{
    /// <summary>The policy of <c>GET /api/sdk/stream</c>: at most <see cref="KeyLimitsOptions.SdkStreams"/> open per key.</summary>
    public const string SdkStreamPolicy = "sdk-streams-per-key";

    private const string NoLimit = ""; // no key id or client address is empty

    public static IServiceCollection AddRateLimits(this IServiceCollection services)
    {
        services.AddOptions<FailedAuthenticationOptions>().BindValidatedConfiguration(FailedAuthentication.ConfigurationSection).ValidateOnStart();
        services.AddOptions<KeyLimitsOptions>().BindValidatedConfiguration(KeyLimitsOptions.ConfigurationSection).ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<FailedAuthenticationOptions>, IOptions<KeyLimitsOptions>>((limiter, failed, keys) =>
        {
            var failedWindow = Window(failed.Value.PermitLimit, failed.Value.WindowSeconds);
            var keyWindow = keys.Value.RequestsPerWindow > 0 ? Window(keys.Value.RequestsPerWindow, keys.Value.WindowSeconds) : null;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                FailedAuthentication.IsMarked(context) ? FailedAuthentication.Partition(context, failedWindow)
                : keyWindow is not null && KeyIdOf(context) is { } keyId ? RateLimitPartition.GetFixedWindowLimiter(keyId, _ => keyWindow)
                : RateLimitPartition.GetNoLimiter(NoLimit));
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = RejectAsync;
            limiter.AddPolicy(SdkStreamPolicy, new SdkStreamsPerKey(keys.Value.SdkStreams));
        });
        return services;
    }

    /// <summary>
    /// The rate limiter, run only for the requests a limit may apply to: refused keys, the SDK stream (a GET with a rate limiting
    /// policy) and, when a per-key request limit is set, every request. The others skip the middleware and its partition lookup,
    /// which every request paid for (docs/benchmarks.md): a render (a POST) pays one comparison of its method.
    /// </summary>
    public static IApplicationBuilder UseRateLimits(this IApplicationBuilder app)
    {
        var perKey = app.ApplicationServices.GetRequiredService<IOptions<KeyLimitsOptions>>().Value.RequestsPerWindow > 0;
        return app.UseWhen(perKey ? _ => true : context => FailedAuthentication.IsMarked(context) || HasPolicy(context), limited => limited.UseRateLimiter());
    }

    private static bool HasPolicy(HttpContext context) =>
        HttpMethods.IsGet(context.Request.Method) && context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>() is not null;

    private static string? KeyIdOf(HttpContext context) => context.User.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim);

    private static FixedWindowRateLimiterOptions Window(int permits, int seconds) =>
        new() { PermitLimit = permits, Window = TimeSpan.FromSeconds(seconds), QueueLimit = 0 };

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        if (FailedAuthentication.IsMarked(context))
        {
            await FailedAuthentication.RejectAsync(context, seconds);
            return;
        }
        var limits = context.RequestServices.GetRequiredService<IOptions<KeyLimitsOptions>>().Value;
        await Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "too_many_requests",
            $"Too many requests with this API key: at most {limits.RequestsPerWindow} per {limits.WindowSeconds} seconds; retry after {seconds} seconds.");
    }

    /// <summary>At most so many open streams per key; one more is refused at once (no queue), without <c>Retry-After</c>: a
    /// permit comes back only when one of the key's streams is closed.</summary>
    private sealed class SdkStreamsPerKey(int streams) : IRateLimiterPolicy<string>
    {
        private readonly ConcurrencyLimiterOptions _limit = new() { PermitLimit = streams, QueueLimit = 0 };

        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = (rejected, _) => new ValueTask(Problems.WriteAsync(
            rejected.HttpContext, StatusCodes.Status429TooManyRequests, "too_many_streams",
            $"This API key has {streams} SDK streams open, the most allowed ({KeyLimitsOptions.ConfigurationSection}:SdkStreams); close one, or use another key."));

        public RateLimitPartition<string> GetPartition(HttpContext context) =>
            KeyIdOf(context) is { } keyId ? RateLimitPartition.GetConcurrencyLimiter(keyId, _ => _limit) : RateLimitPartition.GetNoLimiter(NoLimit);
    }
}

/// <summary>Limits per API key (section <c>PromptVault:KeyLimits</c>, docs/security.md).</summary>
internal sealed class KeyLimitsOptions
{
    public const string ConfigurationSection = "PromptVault:KeyLimits";

    /// <summary>Requests one key may make per window, whatever the route; 0 (the default) is no limit.</summary>
    [Range(0, 1_000_000_000)]
    public int RequestsPerWindow { get; set; }

    /// <summary>The request window's length in seconds. Default: 60.</summary>
    [Range(1, 86_400)]
    public int WindowSeconds { get; set; } = 60;

    /// <summary>SDK streams (<c>GET /api/sdk/stream</c>) one key may hold open at once. Default: 100.</summary>
    [Range(1, 1_000_000)]
    public int SdkStreams { get; set; } = ServerDefaults.SdkStreamsPerKey;
}
