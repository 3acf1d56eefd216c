using PromptVault.Core.Audit;
using PromptVault.Core.Contracts;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Auth;

/// <summary>Creates, lists, revokes and checks API keys; every change is audited.</summary>
public sealed class ApiKeyService(IApiKeyStore store, TimeProvider time)
{
    public async Task<CreatedApiKeyResponse> CreateAsync(CreateApiKeyRequest request, string actor, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(request.Name))
            throw new InvalidInputException("missing_name", "name is required: who or what will use the key.", "name");
        Prompts.PromptRules.ValidateLength(request.Name, Prompts.PromptRules.MaxNameLength, "name");
        if (request.Role is null)
            throw new InvalidInputException("missing_role", $"role is required: one of {Names.AllOf<ApiKeyRole>()}.", "role");

        var now = time.GetUtcNow();
        var secret = ApiKeySecret.Generate();
        var key = new ApiKey(Guid.CreateVersion7(now).ToString("N"), request.Name.Trim(), request.Role.Value, ApiKeySecret.Shown(secret), now, actor, null);
        await store.CreateKeyAsync(key, ApiKeySecret.Hash(secret),
            new AuditEntry(0, now, actor, AuditActions.ApiKeyCreated, null, key.Id, null,
                new Dictionary<string, string?> { ["name"] = key.Name, ["role"] = Names.Of(key.Role) }),
            cancellationToken);
        return new CreatedApiKeyResponse(key.Id, key.Name, key.Role, secret, key.Prefix, key.CreatedAt);
    }

    public async Task<ApiKeyListResponse> ListAsync(PageRequest page, CancellationToken cancellationToken = default)
    {
        var keys = await store.ListKeysAsync(page, cancellationToken);
        return new ApiKeyListResponse(keys, keys.Total);
    }

    public async Task RevokeAsync(string id, string actor, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var revoked = await store.RevokeKeyAsync(id, now,
            new AuditEntry(0, now, actor, AuditActions.ApiKeyRevoked, null, id, null, new Dictionary<string, string?> { ["revokedAt"] = now.ToString("O") }),
            cancellationToken);
        if (!revoked) throw new NotFoundException("api_key_not_found", $"no active API key has id '{Prompts.PromptRules.Shorten(id)}'.");
    }

    /// <summary>The active key a presented secret belongs to, or null.</summary>
    public Task<ApiKey?> AuthenticateAsync(string presented, CancellationToken cancellationToken = default) =>
        presented.StartsWith(ApiKeySecret.Prefix, StringComparison.Ordinal)
            ? store.FindActiveByHashAsync(ApiKeySecret.Hash(presented), cancellationToken)
            : Task.FromResult<ApiKey?>(null);

    /// <summary>Creates the first admin key when there is none; returns it (shown once), or null when keys exist.</summary>
    public async Task<CreatedApiKeyResponse?> CreateFirstAdminKeyAsync(CancellationToken cancellationToken = default) =>
        await store.AnyKeyAsync(cancellationToken) ? null
            : await CreateAsync(new CreateApiKeyRequest("admin", ApiKeyRole.Admin), "promptvault serve", cancellationToken);
}
