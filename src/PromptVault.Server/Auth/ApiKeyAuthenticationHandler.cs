using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using PromptVault.Core;
using PromptVault.Core.Auth;
using PromptVault.Server.Api;

namespace PromptVault.Server.Auth;

/// <summary>Authenticates <c>Authorization: Bearer pv_…</c> against the stored key hashes.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyService keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string KeyIdClaim = "pv:key_id";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header)) return NoKey;
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Fail("The Authorization header must be 'Bearer pv_…'.");

        var found = keys.FindActiveByHashAsync(HashOf(header), Context.RequestAborted);
        return found.IsCompletedSuccessfully ? ResultFor(found.Result) : ResultForAsync(found);
    }

    // Kestrel gives each request on a connection the same string object for a header sent unchanged, so a connection's key is
    // hashed once, not on every request (SHA-256 was about 3% of a render's CPU; docs/benchmarks.md, stop 40). Keyed by the
    // string object, the table holds no secret longer than Kestrel holds the header; "" stands for text that is no key of ours.
    private static readonly ConditionalWeakTable<string, string> HashOfHeader = new();

    private static string? HashOf(string header)
    {
        if (!HashOfHeader.TryGetValue(header, out var hash))
        {
            hash = ApiKeyService.HashOf(header.AsSpan("Bearer ".Length).Trim()) ?? "";
            HashOfHeader.AddOrUpdate(header, hash);
        }
        return hash.Length == 0 ? null : hash;
    }

    private static readonly Task<AuthenticateResult> NoKey = Task.FromResult(AuthenticateResult.NoResult());

    private async Task<AuthenticateResult> ResultForAsync(ValueTask<ApiKey?> found) => await ResultFor(await found);

    private Task<AuthenticateResult> ResultFor(ApiKey? key) =>
        key is null ? Fail("invalid or revoked API key: no active key matches the one sent.") : Successes.GetValue(key, Success);

    // One result per cached key object, built once instead of on every request (its ticket, principal and properties).
    // The registry cache drops the key object on any key change (a revocation included), so a result lives no longer than
    // the key it was made from; the key's hash and secret are not in it. Nothing in the server changes a result, its
    // principal's claims or its properties after authentication: the framework copies what it adds to a ticket of its own.
    private static readonly ConditionalWeakTable<ApiKey, Task<AuthenticateResult>> Successes = new();

    private static Task<AuthenticateResult> Success(ApiKey key) =>
        Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(PrincipalOf(key, SchemeName), SchemeName)));

    /// <summary>A key's name, role and id as claims (the API's and the dashboard's sign-ins).</summary>
    internal static ClaimsPrincipal PrincipalOf(ApiKey key, string scheme) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.Name, key.Name), new Claim(ClaimTypes.Role, Names.Of(key.Role)), new Claim(KeyIdClaim, key.Id)],
        scheme));

    /// <summary>
    /// Marks the request for the failed-authentication rate limit (<see cref="FailedAuthentication"/>), unless its route
    /// takes anonymous requests (<c>/healthz</c>, the OpenAPI document): served without the key, it guessed nothing, and a
    /// health probe still sending a rotated key must not use up its address's budget and start getting 429.
    /// </summary>
    private Task<AuthenticateResult> Fail(string message)
    {
        if (Context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is null)
            FailedAuthentication.Mark(Context);
        return Task.FromResult(AuthenticateResult.Fail(message));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // A key that was sent but refused is told why; a missing key is told that one is needed.
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure;
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "unauthorized",
            failure?.Message ?? "An API key is required: send 'Authorization: Bearer pv_…' with a valid, unrevoked key.", "Authorization");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        return WriteProblemAsync(StatusCodes.Status403Forbidden, "forbidden",
            RolePolicies.Refusal(Context.User, "do this", RolePolicies.NeededRole(Context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>())));
    }

    private Task WriteProblemAsync(int status, string code, string detail, string? field = null)
    {
        Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized) Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.WriteAsync(Context, status, code, detail, field);
    }
}
