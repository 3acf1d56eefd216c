using Microsoft.Extensions.Logging;
using PromptVault.Core.Audit;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Auth;

/// <summary>Creates, lists, revokes and checks API keys; every change is audited.</summary>
public sealed class ApiKeyService(IApiKeyStore store, RegistryCache cache, RegistryChangeFeed changes, TimeProvider time, ILogger<ApiKeyService> logger)
{
    /// <summary>The actor of the first admin key, made by <c>promptvault serve</c>.</summary>
    public const string ServeActor = "promptvault serve";

    /// <summary>The actor of an admin key made by <c>promptvault admin-key</c> on the server's machine.</summary>
    public const string RecoveryActor = "promptvault admin-key";

    /// <summary>The actor recorded when a request carries no key name.</summary>
    public const string AnonymousActor = ApiKeyNames.AnonymousActor;

    public async Task<CreatedApiKeyResponse> CreateAsync(CreateApiKeyRequest request, string actor, CancellationToken cancellationToken = default)
    {
        ApiKeyNames.Validate(request.Name);
        if (request.Role is null)
            throw new InvalidInputException("missing_role", $"role is required: one of {Names.AllOf<ApiKeyRole>()}.", "role");
        return await CreateAsync(request.Name.Trim(), request.Role.Value, actor, AuditActions.ApiKeyCreated, cancellationToken);
    }

    public async Task<ApiKeyListResponse> ListAsync(PageRequest page, CancellationToken cancellationToken = default)
    {
        var keys = await store.ListKeysAsync(page, cancellationToken);
        return new ApiKeyListResponse(keys, keys.Total);
    }

    /// <exception cref="ConflictException">The key is the last active admin key (<c>last_admin_key</c>).</exception>
    public async Task RevokeAsync(string id, string actor, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var revoked = await changes.AfterAsync(store.RevokeKeyAsync(id, now,
            new AuditEntry(0, now, actor, AuditActions.ApiKeyRevoked, null, id, null, new Dictionary<string, string?> { ["revokedAt"] = now.ToString("O") }),
            cancellationToken), RegistryChangeKind.ApiKeys);
        if (!revoked) throw new NotFoundException("api_key_not_found", $"no active API key has id '{Prompts.PromptRules.Echo(id)}'.");
        Log.KeyRevoked(logger, id, actor);
    }

    /// <summary>
    /// Whether the key with this id exists and is not revoked, read from the store by its id (a signed-in dashboard and an
    /// open SDK stream recheck their key on each key change, so this must not read every key).
    /// </summary>
    public async Task<bool> IsActiveAsync(string id, CancellationToken cancellationToken = default) =>
        await store.FindActiveByIdAsync(id, cancellationToken) is not null;

    /// <summary>The active key with this id, or null (from the <see cref="RegistryCache"/>): a dashboard sign-in's key, its role as it is now.</summary>
    public ValueTask<ApiKey?> FindActiveAsync(string id, CancellationToken cancellationToken = default) =>
        cache.FindActiveKeyByIdAsync(id, cancellationToken);

    /// <summary>The active key a presented secret belongs to, or null (from the <see cref="RegistryCache"/>).</summary>
    public ValueTask<ApiKey?> AuthenticateAsync(ReadOnlySpan<char> presented, CancellationToken cancellationToken = default) =>
        FindActiveByHashAsync(HashOf(presented), cancellationToken);

    /// <summary>The hash a presented secret's key would be stored under; null when the text cannot be one of our keys.</summary>
    public static string? HashOf(ReadOnlySpan<char> presented) =>
        presented.StartsWith(ApiKeySecret.Prefix, StringComparison.Ordinal) ? ApiKeySecret.Hash(presented) : null;

    /// <summary>The active key stored under <paramref name="hash"/> (<see cref="HashOf"/>), or null (from the <see cref="RegistryCache"/>).</summary>
    public ValueTask<ApiKey?> FindActiveByHashAsync(string? hash, CancellationToken cancellationToken = default) =>
        hash is null ? ValueTask.FromResult<ApiKey?>(null) : cache.FindActiveKeyByHashAsync(hash, cancellationToken);

    /// <summary>
    /// Creates an admin key when no active admin key exists (a new database); returns it (shown once), or null otherwise.
    /// Revoked keys do not count: they cannot administer anything.
    /// </summary>
    public async Task<CreatedApiKeyResponse?> CreateFirstAdminKeyAsync(CancellationToken cancellationToken = default)
    {
        var created = await CreateAsync("admin", ApiKeyRole.Admin, ServeActor, AuditActions.ApiKeyCreated, store.CreateFirstAdminKeyAsync, cancellationToken);
        if (created is not null)
            Log.FirstAdminKeyCreated(logger, created.Id, created.Name);
        return created;
    }

    /// <summary>Creates a new admin key outside the API, for whoever can reach the database file (<c>promptvault admin-key</c>).</summary>
    public async Task<CreatedApiKeyResponse> CreateRecoveryAdminKeyAsync(CancellationToken cancellationToken = default)
    {
        var created = await CreateAsync("admin-recovered", ApiKeyRole.Admin, RecoveryActor, AuditActions.AdminKeyRecovered, cancellationToken);
        Log.AdminKeyRecovered(logger, created.Id, created.Name);
        return created;
    }

    private async Task<CreatedApiKeyResponse> CreateAsync(string name, ApiKeyRole role, string actor, string action, CancellationToken cancellationToken) =>
        (await CreateAsync(name, role, actor, action, async (key, hash, audit, ct) =>
        {
            await store.CreateKeyAsync(key, hash, audit, ct);
            return true;
        }, cancellationToken))!;

    /// <returns>Null when <paramref name="write"/> wrote nothing.</returns>
    private async Task<CreatedApiKeyResponse?> CreateAsync(string name, ApiKeyRole role, string actor, string action,
        Func<ApiKey, string, AuditEntry, CancellationToken, Task<bool>> write, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var secret = ApiKeySecret.Generate();
        var key = new ApiKey(Guid.CreateVersion7(now).ToString("N"), name, role, ApiKeySecret.Shown(secret), now, actor, null);
        var written = await changes.AfterAsync(write(key, ApiKeySecret.Hash(secret),
            new AuditEntry(0, now, actor, action, null, key.Id, null,
                new Dictionary<string, string?> { ["name"] = key.Name, ["role"] = Names.Of(key.Role) }),
            cancellationToken), RegistryChangeKind.ApiKeys);
        return written ? new CreatedApiKeyResponse(key.Id, key.Name, key.Role, secret, key.Prefix, key.CreatedAt) : null;
    }
}
