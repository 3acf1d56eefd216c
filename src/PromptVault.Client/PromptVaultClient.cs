using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using PromptVault.Core;
using PromptVault.Core.Auth;
using PromptVault.Core.Analysis;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Storage;
using PromptVault.Core.Idempotency;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Core.Versioning;
using PromptVault.Core.Webhooks;

namespace PromptVault.Client;

/// <summary>
/// A typed client for the PromptVault HTTP API (SPEC §5): one method per registry route.
/// </summary>
/// <remarks>
/// Thread-safe: it keeps no per-call state, so one instance can be shared. It does not own the <see cref="HttpClient"/>.
/// Refused requests throw <see cref="PromptVaultApiException"/>; a server that cannot be reached throws
/// <see cref="HttpRequestException"/>.
/// The create calls (prompt, version, metric batch) and exposure batches send an <c>Idempotency-Key</c> header, a new one per call unless the
/// caller passes its own, so an HTTP handler that re-sends the request (a retry policy) never writes twice; the server
/// answers a repeat with the first answer for 24 hours. The handler <c>AddPromptVault</c> registers retries only reads,
/// those calls, <see cref="MoveLabelAsync(string, string, string, CancellationToken)"/> (a repeat changes nothing) and the deletes (a repeat's 404 after an attempt that
/// may have deleted is their success); every other write is sent once, as it may have been carried out when its answer was lost.
/// </remarks>
public sealed class PromptVaultClient
{
    private readonly HttpClient _http;
    private readonly Uri _baseAddress;
    private readonly AuthenticationHeaderValue? _authorization;

    /// <summary>Creates a client over <paramref name="httpClient"/>, whose <see cref="HttpClient.BaseAddress"/> is the server's URL.</summary>
    /// <param name="httpClient">The HTTP client to send requests with; its <c>BaseAddress</c> must be set.</param>
    /// <param name="apiKey">The API key (<c>pv_…</c>) sent as <c>Authorization: Bearer</c> on every request; when null, the
    /// client's own default headers are used unchanged.</param>
    /// <exception cref="ArgumentException"><paramref name="httpClient"/> has no <c>BaseAddress</c>.</exception>
    public PromptVaultClient(HttpClient httpClient, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        if (httpClient.BaseAddress is null)
            throw new ArgumentException("The HttpClient needs a BaseAddress: the PromptVault server's URL.", nameof(httpClient));
        _http = httpClient;
        // Relative routes resolve under the base path only when it ends with '/' (http://host/promptvault/).
        var text = httpClient.BaseAddress.AbsoluteUri;
        _baseAddress = text.EndsWith('/') ? httpClient.BaseAddress : new Uri(text + "/");
        if (!string.IsNullOrEmpty(apiKey)) _authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    /// <summary>The server's URL.</summary>
    public Uri BaseAddress => _baseAddress;

    /// <summary>Creates a prompt with its first version (<c>1.0.0</c>, change description <c>Initial version</c>).</summary>
    /// <exception cref="PromptVaultApiException">The request was refused, e.g. 409 <c>prompt_exists</c>.</exception>
    public Task<PromptResponse> CreatePromptAsync(CreatePromptRequest request, CancellationToken cancellationToken = default) =>
        CreatePromptAsync(request, NewIdempotencyKey(), cancellationToken);

    /// <summary>The same, sending <paramref name="idempotencyKey"/>: a repeat with it (after a lost answer) gets the first answer.</summary>
    /// <exception cref="PromptVaultApiException">The request was refused, e.g. 422 <c>idempotency_key_reused</c> when the key was sent with another request.</exception>
    public Task<PromptResponse> CreatePromptAsync(CreatePromptRequest request, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        return SendAsync<CreatePromptRequest, PromptResponse>(HttpMethod.Post, "api/prompts", request, cancellationToken, idempotencyKey);
    }

    /// <summary>Lists prompts, optionally only those of a type, category or tag (every page).</summary>
    public Task<PromptListResponse> ListPromptsAsync(PromptType? type = null, string? category = null, string? tag = null, CancellationToken cancellationToken = default)
    {
        var query = Query(("type", type is null ? null : Names.Of(type.Value)), ("category", category), ("tag", tag));
        return AllPagesAsync<PromptListResponse>("api/prompts" + query, l => l.Next, (a, b) => b with { Prompts = [.. a.Prompts, .. b.Prompts] }, cancellationToken);
    }

    /// <summary>Gets a prompt with its labels and latest version.</summary>
    /// <exception cref="PromptVaultApiException">404 <c>prompt_not_found</c> when there is no such prompt.</exception>
    public Task<PromptResponse> GetPromptAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<PromptResponse>(HttpMethod.Get, PromptPath(name), cancellationToken);

    /// <summary>Creates a new version of a prompt; the server picks the number from the change to the variables.</summary>
    /// <exception cref="PromptVaultApiException">The request was refused, e.g. 409 <c>version_unchanged</c> when nothing changed.</exception>
    public Task<VersionResponse> CreateVersionAsync(string name, CreateVersionRequest request, CancellationToken cancellationToken = default) =>
        CreateVersionAsync(name, request, NewIdempotencyKey(), cancellationToken);

    /// <summary>The same, sending <paramref name="idempotencyKey"/>: a repeat with it (after a lost answer) gets the first answer,
    /// never a second version, even when other versions were created in between.</summary>
    public Task<VersionResponse> CreateVersionAsync(string name, CreateVersionRequest request, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        return SendAsync<CreateVersionRequest, VersionResponse>(HttpMethod.Post, PromptPath(name) + "/versions", request, cancellationToken, idempotencyKey);
    }

    /// <summary>The newest <paramref name="limit"/> versions of a prompt (one page; <c>Total</c> counts them all).</summary>
    /// <exception cref="PromptVaultApiException">400 naming <c>limit</c> when it is not between 1 and 1,000.</exception>
    public Task<VersionListResponse> ListVersionsAsync(string name, int limit, CancellationToken cancellationToken = default) =>
        SendAsync<VersionListResponse>(HttpMethod.Get, PromptPath(name) + "/versions" + Query(("limit", Number(limit))), cancellationToken);

    /// <summary>Lists the versions of a prompt, newest first (every page).</summary>
    public Task<VersionListResponse> ListVersionsAsync(string name, CancellationToken cancellationToken = default) =>
        AllPagesAsync<VersionListResponse>(PromptPath(name) + "/versions", l => l.Next, (a, b) => b with { Versions = [.. a.Versions, .. b.Versions] }, cancellationToken);

    /// <summary>Gets one version by number (<c>1.0.2</c>), id, or <c>latest</c>.</summary>
    public Task<VersionResponse> GetVersionAsync(string name, string version, CancellationToken cancellationToken = default) =>
        SendAsync<VersionResponse>(HttpMethod.Get, VersionPath(name, version), cancellationToken);

    /// <summary>Changes a prompt's own fields; omitted ones stay. <c>requireApproval</c> and <c>requireTests</c> need an admin key.</summary>
    public Task<PromptResponse> UpdatePromptAsync(string name, UpdatePromptRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<UpdatePromptRequest, PromptResponse>(HttpMethod.Patch, PromptPath(name), request, cancellationToken);

    /// <summary>Gets a version's test cases (SPEC §10).</summary>
    public Task<VersionTests> GetTestsAsync(string name, string version, CancellationToken cancellationToken = default) =>
        SendAsync<VersionTests>(HttpMethod.Get, VersionPath(name, version) + "/tests", cancellationToken);

    /// <summary>Replaces a version's test cases.</summary>
    /// <exception cref="PromptVaultApiException">400 <c>invalid_test</c> naming the case and field at fault.</exception>
    public Task<VersionTests> PutTestsAsync(string name, string version, VersionTests tests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tests);
        return SendAsync<VersionTests, VersionTests>(HttpMethod.Put, VersionPath(name, version) + "/tests", tests, cancellationToken, repeatable: true);
    }

    /// <summary>Runs a version's test cases on the server and returns the stored run.</summary>
    /// <remarks>
    /// A run may call a model for each case and take minutes. Through <c>AddPromptVault</c> it is sent once, and no request
    /// timeout cuts it off: <paramref name="cancellationToken"/> bounds it (the server then stops the run and stores nothing).
    /// </remarks>
    /// <exception cref="PromptVaultApiException">409 <c>no_tests</c> when the version has none.</exception>
    public async Task<EvaluationRun> EvaluateAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        using var response = await SendCoreAsync(HttpMethod.Post, VersionPath(name, version) + "/evaluate", null, cancellationToken, longRunning: true)
            .ConfigureAwait(false);
        return await ReadAsync<EvaluationRun>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists a version's evaluation runs, newest first (every page).</summary>
    /// <exception cref="PromptVaultApiException">404 <c>prompt_not_found</c> or <c>version_not_found</c>.</exception>
    public Task<EvaluationListResponse> ListEvaluationsAsync(string name, string version, CancellationToken cancellationToken = default) =>
        AllPagesAsync<EvaluationListResponse>(VersionPath(name, version) + "/evaluations", l => l.Next,
            (a, b) => b with { Evaluations = [.. a.Evaluations, .. b.Evaluations] }, cancellationToken);

    /// <summary>Gets an evaluation run by id.</summary>
    public Task<EvaluationRun> GetEvaluationAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync<EvaluationRun>(HttpMethod.Get, "api/evaluations/" + Uri.EscapeDataString(id), cancellationToken);

    /// <summary>Moves a version through the lifecycle; moving it to <c>production</c> promotes it.</summary>
    public Task<VersionResponse> ChangeStatusAsync(string name, string version, VersionStatus status, CancellationToken cancellationToken = default) =>
        ChangeStatusAsync(name, version, status, expectedProduction: null, cancellationToken);

    /// <summary>The same; a promote with <paramref name="expectedProduction"/> happens only if the production label still points
    /// at that version (sent as <c>If-Match</c>), so it cannot undo a change made since the caller read it.</summary>
    /// <param name="expectedProduction">The version number production was read at (<c>1.0.1</c>), or null to promote wherever it is.
    /// Only a move to <c>production</c> takes one.</param>
    /// <exception cref="ArgumentException"><paramref name="expectedProduction"/> is not a version number.</exception>
    /// <exception cref="PromptVaultApiException">412 <c>label_moved</c> naming where production points now, nothing changed;
    /// 400 <c>invalid_if_match</c> with <paramref name="expectedProduction"/> for a status other than <c>production</c>.</exception>
    public Task<VersionResponse> ChangeStatusAsync(string name, string version, VersionStatus status, LabelExpectation? expectedProduction,
        CancellationToken cancellationToken = default) =>
        SendAsync<ChangeStatusRequest, VersionResponse>(HttpMethod.Post, VersionPath(name, version) + "/status", new ChangeStatusRequest(status), cancellationToken,
            precondition: Precondition(expectedProduction, nameof(expectedProduction)));

    /// <summary>Points a label at a version; moving <c>production</c> promotes the version.</summary>
    /// <param name="version">A version number (<c>1.0.1</c>), a version id or <c>latest</c>; the last two are read first, to learn the number.</param>
    /// <exception cref="PromptVaultApiException">412 <c>label_moved</c>: the first attempt's answer was lost and, before the retry,
    /// someone else moved the label; it is left where they put it.</exception>
    public Task<VersionResponse> MoveLabelAsync(string name, string label, string version, CancellationToken cancellationToken = default) =>
        MoveLabelAsync(name, label, version, expectedFrom: null, cancellationToken);

    /// <summary>The same, only if the label still points at <paramref name="expectedFrom"/> (sent as <c>If-Match</c>), so it cannot
    /// undo a move made since the caller read it.</summary>
    /// <param name="version">A version number (<c>1.0.1</c>), a version id or <c>latest</c>; the last two are read first, to learn the number.</param>
    /// <param name="expectedFrom">The version number the label was read at, or null to move it wherever it is. A repeat after a lost
    /// answer expects it where this call sets it, as without one.</param>
    /// <exception cref="ArgumentException"><paramref name="expectedFrom"/> is not a version number.</exception>
    /// <exception cref="PromptVaultApiException">412 <c>label_moved</c> naming where the label points now; nothing changed.</exception>
    public async Task<VersionResponse> MoveLabelAsync(string name, string label, string version, LabelExpectation? expectedFrom, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(label);
        var precondition = Precondition(expectedFrom, nameof(expectedFrom));
        var number = SemanticVersion.TryParse(version, out var parsed) ? parsed.ToString()
            : (await GetVersionAsync(name, version, cancellationToken).ConfigureAwait(false)).Version;
        using var content = JsonBody(new MoveLabelRequest(number));
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_baseAddress, PromptPath(name) + "/labels/" + Uri.EscapeDataString(label))) { Content = content };
        // Sent again after a lost answer, it moves the label only from where the first attempt put it: there it changes nothing.
        request.Options.Set(RequestRules.Repeatable, true);
        request.Options.Set(RequestRules.RepeatIfMatch, LabelTag(number, nameof(version)));
        precondition?.Invoke(request.Headers);
        try
        {
            using var response = await SendCoreAsync(request, cancellationToken).ConfigureAwait(false);
            return await ReadAsync<VersionResponse>(response, cancellationToken).ConfigureAwait(false);
        }
        catch (PromptVaultApiException e) when (e.Code == "label_moved" && request.Options.TryGetValue(RequestRules.RepeatedAfterSetByOthers, out var setByOthers) && setByOthers)
        {
            // The server words its refusal by the repeat's If-Match, which the caller never sent: they asked for the label only if unset.
            var now = (await GetPromptAsync(name, cancellationToken).ConfigureAwait(false)).Labels.GetValueOrDefault(label);
            throw new PromptVaultApiException(e.StatusCode, e.Code,
                $"label '{label}' of '{name}' was not set when this call began, but its first attempt's answer was lost and someone else set the label "
                + (now is null ? "(and removed it since) " : $"to version {now} ") + "before the retry; it is left as they put it.", e.Field);
        }
    }

    /// <summary>Removes a label from a prompt (admin only); what it pointed at is no longer served by that label.</summary>
    /// <exception cref="PromptVaultApiException">409 <c>production_label_required</c> for <c>production</c>, which can be moved but never removed;
    /// 404 <c>label_not_found</c> when the prompt has no such label.</exception>
    /// <exception cref="PromptVaultApiException">412 <c>label_moved</c>: the first attempt's answer was lost and, before the retry,
    /// someone else moved the label or put it back; it is left where they put it.</exception>
    public async Task RemoveLabelAsync(string name, string label, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(label);
        var seen = (await GetPromptAsync(name, cancellationToken).ConfigureAwait(false)).Labels.GetValueOrDefault(label);
        using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(_baseAddress, PromptPath(name) + "/labels/" + Uri.EscapeDataString(label)));
        // Sent again after a lost answer, it removes the label only where it was when this call read it.
        if (seen is not null) request.Options.Set(RequestRules.RepeatIfMatch, $"\"{seen}\"");
        using var response = await SendCoreAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a new version with an earlier version's content, variables and metadata, and promotes it.</summary>
    /// <returns>The new version.</returns>
    public Task<VersionResponse> RollbackAsync(string name, string version, string? reason = null, CancellationToken cancellationToken = default) =>
        RollbackAsync(name, version, reason, expectedProduction: null, cancellationToken);

    /// <summary>The same, only if the production label still points at <paramref name="expectedProduction"/> (sent as
    /// <c>If-Match</c>), so two people rolling back from the same reading cannot undo each other's change.</summary>
    /// <param name="expectedProduction">The version number production was read at (<c>1.0.1</c>), or null to roll back wherever it is.</param>
    /// <exception cref="ArgumentException"><paramref name="expectedProduction"/> is not a version number.</exception>
    /// <exception cref="PromptVaultApiException">412 <c>label_moved</c> naming where production points now; nothing was created or moved.</exception>
    public Task<VersionResponse> RollbackAsync(string name, string version, string? reason, LabelExpectation? expectedProduction, CancellationToken cancellationToken = default) =>
        SendAsync<RollbackRequest, VersionResponse>(HttpMethod.Post, PromptPath(name) + "/rollback", new RollbackRequest(version, reason), cancellationToken,
            precondition: Precondition(expectedProduction, nameof(expectedProduction)));

    /// <summary>
    /// The headers saying where a label must be (api.md): <c>If-Match</c> with each version number quoted, or <c>*</c> for set
    /// anywhere; <c>If-None-Match: *</c> for unset. Checked before anything is sent.
    /// </summary>
    /// <exception cref="ArgumentException">A version of <paramref name="expected"/> is not a version number.</exception>
    private static Action<HttpRequestHeaders>? Precondition(LabelExpectation? expected, string parameter)
    {
        if (expected is null) return null;
        if (!expected.Set) return headers => headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
        List<EntityTagHeaderValue> tags = expected.Versions is null ? [EntityTagHeaderValue.Any] : [.. expected.Versions.Select(v => new EntityTagHeaderValue(LabelTag(v, parameter)))];
        return headers => tags.ForEach(headers.IfMatch.Add);
    }

    /// <summary>A label's entity tag when it points at version <paramref name="number"/> (api.md): the number, quoted.</summary>
    private static string LabelTag(string number, string parameter) =>
        SemanticVersion.TryParse(number, out var parsed) ? $"\"{parsed}\""
        : throw new ArgumentException($"{parameter} must be a version number such as 1.0.1, not '{number}'.", parameter);

    /// <summary>Compares two versions of a prompt: the content diff, the variable and metadata changes, the metrics.</summary>
    public Task<ComparisonResponse> CompareAsync(string name, string a, string b, CancellationToken cancellationToken = default) =>
        SendAsync<ComparisonResponse>(HttpMethod.Get, PromptPath(name) + "/compare" + Query(("a", a), ("b", b)), cancellationToken);

    /// <summary>Resolves the version to serve (an exact version, a label, default <c>production</c>, or an experiment's variant) and renders it.</summary>
    public Task<RenderResponse> RenderAsync(string name, RenderRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendAsync<RenderRequest, RenderResponse>(HttpMethod.Post, PromptPath(name) + "/render", request, cancellationToken);
    }

    /// <summary>The newest <paramref name="limit"/> entries of the audit log (one page; <c>Total</c> counts them all), optionally only one prompt's.</summary>
    /// <exception cref="PromptVaultApiException">400 naming <c>limit</c> when it is not between 1 and 1,000.</exception>
    public Task<AuditListResponse> ListAuditAsync(string? prompt, int limit, CancellationToken cancellationToken = default) =>
        SendAsync<AuditListResponse>(HttpMethod.Get, "api/audit" + Query(("prompt", prompt), ("limit", Number(limit))), cancellationToken);

    /// <summary>Lists the audit log, newest first, optionally only the entries of one prompt (every page).</summary>
    public Task<AuditListResponse> ListAuditAsync(string? prompt = null, CancellationToken cancellationToken = default) =>
        AllPagesAsync<AuditListResponse>("api/audit" + Query(("prompt", prompt)), l => l.Next, (a, b) => b with { Entries = [.. a.Entries, .. b.Entries] }, cancellationToken);

    /// <summary>Creates an API key (admin only); the returned <c>Key</c> is shown this once.</summary>
    public Task<CreatedApiKeyResponse> CreateKeyAsync(string name, ApiKeyRole role, CancellationToken cancellationToken = default) =>
        SendAsync<CreateApiKeyRequest, CreatedApiKeyResponse>(HttpMethod.Post, "api/keys", new CreateApiKeyRequest(name, role), cancellationToken);

    /// <summary>Lists the API keys, revoked ones included (admin only).</summary>
    public Task<ApiKeyListResponse> ListKeysAsync(CancellationToken cancellationToken = default) =>
        AllPagesAsync<ApiKeyListResponse>("api/keys", l => l.Next, (a, b) => b with { Keys = [.. a.Keys, .. b.Keys] }, cancellationToken);

    /// <summary>The API key this client sends (any role): its id, name and role, no secret.</summary>
    public Task<ApiKey> GetCurrentKeyAsync(CancellationToken cancellationToken = default) =>
        SendAsync<ApiKey>(HttpMethod.Get, "api/keys/current", cancellationToken);

    /// <summary>Revokes an API key (admin only).</summary>
    /// <exception cref="PromptVaultApiException">404 <c>api_key_not_found</c> when no active key has that id.</exception>
    public async Task RevokeKeyAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        using var response = await SendCoreAsync(HttpMethod.Delete, "api/keys/" + Uri.EscapeDataString(id), null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Registers a webhook (admin only); the returned <c>Secret</c>, which signs its deliveries, is shown this once.</summary>
    /// <exception cref="PromptVaultApiException">400 <c>invalid_url</c> or <c>unknown_event</c> naming the problem.</exception>
    public Task<CreatedWebhookResponse> CreateWebhookAsync(string url, IReadOnlyList<string> events, CancellationToken cancellationToken = default) =>
        SendAsync<CreateWebhookRequest, CreatedWebhookResponse>(HttpMethod.Post, "api/webhooks", new CreateWebhookRequest(url, events), cancellationToken);

    /// <summary>Lists the webhooks, without their secrets (admin only).</summary>
    public Task<WebhookListResponse> ListWebhooksAsync(CancellationToken cancellationToken = default) =>
        SendAsync<WebhookListResponse>(HttpMethod.Get, "api/webhooks", cancellationToken);

    /// <summary>Deletes a webhook and its delivery history (admin only).</summary>
    /// <exception cref="PromptVaultApiException">404 <c>webhook_not_found</c>.</exception>
    public async Task DeleteWebhookAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        using var response = await SendCoreAsync(HttpMethod.Delete, "api/webhooks/" + Uri.EscapeDataString(id), null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ties a webhook to the caller's key, so it sends again after the key it was tied to was revoked (admin only).</summary>
    /// <exception cref="PromptVaultApiException">404 <c>webhook_not_found</c>.</exception>
    public Task<WebhookResponse> EnableWebhookAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return SendAsync<WebhookResponse>(HttpMethod.Post, $"api/webhooks/{Uri.EscapeDataString(id)}/enable", cancellationToken);
    }

    /// <summary>Sends a delivery's event again, as a new delivery that is returned (admin only). Not retried: each call queues one.</summary>
    /// <exception cref="PromptVaultApiException">404 <c>webhook_not_found</c> or <c>delivery_not_found</c>; 409 <c>webhook_disabled</c>.</exception>
    public Task<WebhookDelivery> RedeliverWebhookDeliveryAsync(string id, long deliveryId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return SendAsync<WebhookDelivery>(HttpMethod.Post,
            string.Create(CultureInfo.InvariantCulture, $"api/webhooks/{Uri.EscapeDataString(id)}/deliveries/{deliveryId}/redeliver"), cancellationToken);
    }

    /// <summary>A webhook's deliveries, newest first, each with its attempts (every page; admin only).</summary>
    /// <exception cref="PromptVaultApiException">404 <c>webhook_not_found</c>.</exception>
    public Task<WebhookDeliveryListResponse> ListWebhookDeliveriesAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return AllPagesAsync<WebhookDeliveryListResponse>($"api/webhooks/{Uri.EscapeDataString(id)}/deliveries", l => l.Next,
            (a, b) => b with { Deliveries = [.. a.Deliveries, .. b.Deliveries] }, cancellationToken);
    }

    /// <summary>Streams the whole registry's export document (docs/export-format.md) into <paramref name="destination"/> (admin only).</summary>
    /// <remarks>A large registry may take longer than the request timeout: through <c>AddPromptVault</c> no request timeout cuts
    /// it off, <paramref name="cancellationToken"/> bounds it.</remarks>
    public async Task ExportAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var response = await SendCoreAsync(HttpMethod.Get, "api/export", null, cancellationToken, completion: HttpCompletionOption.ResponseHeadersRead,
            longRunning: true).ConfigureAwait(false);
        await response.Content.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Imports an export document, all or nothing (admin only); with <paramref name="merge"/>, only the prompts (by name) and keys the server lacks.</summary>
    /// <exception cref="PromptVaultApiException">409 <c>registry_not_empty</c> without merge into a registry that holds prompts;
    /// 400 <c>invalid_export_document</c> naming the JSON path of a malformed document.</exception>
    /// <remarks>A large document may take longer than the request timeout: through <c>AddPromptVault</c> it is sent once, and no
    /// request timeout cuts it off; <paramref name="cancellationToken"/> bounds it.</remarks>
    public async Task<RegistryImportReport> ImportAsync(Stream document, bool merge = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        using var content = new StreamContent(document);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await SendCoreAsync(HttpMethod.Post, "api/import" + (merge ? "?merge=true" : ""), content, cancellationToken, longRunning: true)
            .ConfigureAwait(false);
        return await ReadAsync<RegistryImportReport>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates an experiment in draft (admin only).</summary>
    public Task<ExperimentResponse> CreateExperimentAsync(CreateExperimentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendAsync<CreateExperimentRequest, ExperimentResponse>(HttpMethod.Post, "api/experiments", request, cancellationToken);
    }

    /// <summary>Lists experiments, newest first, optionally only those of one prompt.</summary>
    public Task<ExperimentListResponse> ListExperimentsAsync(string? prompt = null, CancellationToken cancellationToken = default) =>
        AllPagesAsync<ExperimentListResponse>("api/experiments" + Query(("prompt", prompt)), l => l.Next, (a, b) => b with { Experiments = [.. a.Experiments, .. b.Experiments] }, cancellationToken);

    /// <summary>Gets an experiment with its variants and status.</summary>
    /// <exception cref="PromptVaultApiException">404 <c>experiment_not_found</c> when there is no such experiment.</exception>
    public Task<ExperimentResponse> GetExperimentAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync<ExperimentResponse>(HttpMethod.Get, ExperimentPath(id), cancellationToken);

    /// <summary>Moves an experiment through its lifecycle (admin only).</summary>
    public Task<ExperimentResponse> ChangeExperimentAsync(string id, ExperimentCommand command, CancellationToken cancellationToken = default) =>
        SendAsync<ExperimentResponse>(HttpMethod.Post, ExperimentPath(id) + "/" + Names.Of(command), cancellationToken);

    /// <summary>The analysis of SPEC §3: every variant against control on every metric.</summary>
    public Task<ExperimentResults> GetResultsAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync<ExperimentResults>(HttpMethod.Get, ExperimentPath(id) + "/results", cancellationToken);

    /// <summary>The variant the experiment assigns to <paramref name="unitId"/>.</summary>
    public Task<AssignmentResponse> GetAssignmentAsync(string id, string unitId, CancellationToken cancellationToken = default) =>
        SendAsync<AssignmentResponse>(HttpMethod.Get, ExperimentPath(id) + "/assignment" + Query(("unitId", unitId)), cancellationToken);

    /// <summary>Records metric events, all or nothing (writer); events whose id was stored before are acknowledged, not counted again.</summary>
    public Task<MetricRecordResponse> RecordMetricsAsync(MetricBatchRequest batch, CancellationToken cancellationToken = default) =>
        RecordMetricsAsync(batch, NewIdempotencyKey(), cancellationToken);

    /// <summary>The same, sending <paramref name="idempotencyKey"/>: a repeat with it gets the first answer and counts nothing again,
    /// events without ids included.</summary>
    public Task<MetricRecordResponse> RecordMetricsAsync(MetricBatchRequest batch, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        return SendAsync<MetricBatchRequest, MetricRecordResponse>(HttpMethod.Post, "api/metrics", batch, cancellationToken, idempotencyKey);
    }

    /// <summary>A version's aggregates over a period, with an hourly series.</summary>
    public Task<VersionMetricsResponse> GetVersionMetricsAsync(string name, string version, MetricPeriod period = MetricPeriod.All, CancellationToken cancellationToken = default) =>
        SendAsync<VersionMetricsResponse>(HttpMethod.Get, VersionPath(name, version) + "/metrics" + Query(("period", Names.Of(period))), cancellationToken);

    /// <summary>
    /// The SDK snapshot (<c>GET /api/sdk/snapshot</c>): every prompt's labelled versions and the running experiments.
    /// With <paramref name="etag"/> (from an earlier answer) the server answers "not modified" when nothing changed.
    /// </summary>
    /// <returns>The snapshot and its ETag, or <see cref="SnapshotResult.NotModified"/> set when <paramref name="etag"/> is still current.</returns>
    public async Task<SnapshotResult> GetSnapshotAsync(string? etag = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_baseAddress, "api/sdk/snapshot"));
        if (etag is not null) request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        using var response = await SendCoreAsync(request, cancellationToken, allowNotModified: true).ConfigureAwait(false);
        var tag = response.Headers.ETag?.ToString();
        if (response.StatusCode == HttpStatusCode.NotModified) return new SnapshotResult(null, tag ?? etag, NotModified: true);
        return new SnapshotResult(await ReadAsync<SdkSnapshot>(response, cancellationToken).ConfigureAwait(false), tag, NotModified: false);
    }

    /// <summary>Records exposures of units to experiment variants resolved locally (<c>POST /api/exposures</c>, writer); a repeat changes nothing.</summary>
    public Task RecordExposuresAsync(ExposureBatchRequest batch, CancellationToken cancellationToken = default) =>
        RecordExposuresAsync(batch, NewIdempotencyKey(), cancellationToken);

    /// <summary>The same, sending <paramref name="idempotencyKey"/>. The server stores no answer for it (a unit's exposure counts
    /// once, so a repeat changes nothing), but the key marks the request as safe to send again.</summary>
    public async Task RecordExposuresAsync(ExposureBatchRequest batch, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        using var content = JsonBody(batch);
        using var response = await SendCoreAsync(HttpMethod.Post, "api/exposures", content, cancellationToken, idempotencyKey).ConfigureAwait(false);
    }

    private static string ExperimentPath(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return "api/experiments/" + Uri.EscapeDataString(id);
    }

    private static string PromptPath(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        // Names may hold '/', sent as %2F so the route sees one segment.
        return "api/prompts/" + Uri.EscapeDataString(name);
    }

    private static string VersionPath(string name, string version)
    {
        ArgumentException.ThrowIfNullOrEmpty(version);
        return PromptPath(name) + "/versions/" + Uri.EscapeDataString(version);
    }

    private static string Number(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }

    /// <summary>Reads a paged list to its end by following its <c>next</c> links (server-relative).</summary>
    private async Task<T> AllPagesAsync<T>(string path, Func<T, string?> next, Func<T, T, T> join, CancellationToken cancellationToken)
    {
        var all = await SendAsync<T>(HttpMethod.Get, path, cancellationToken).ConfigureAwait(false);
        for (var link = next(all); link is not null; link = next(all))
            all = join(all, await SendAsync<T>(HttpMethod.Get, link.TrimStart('/'), cancellationToken).ConfigureAwait(false));
        return all;
    }

    private async Task<TResponse> SendAsync<TResponse>(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(method, path, null, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TResponse>(response, cancellationToken).ConfigureAwait(false);
    }

    internal static string NewIdempotencyKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private async Task<TResponse> SendAsync<TRequest, TResponse>(HttpMethod method, string path, TRequest body, CancellationToken cancellationToken,
        string? idempotencyKey = null, bool repeatable = false, Action<HttpRequestHeaders>? precondition = null)
    {
        using var content = JsonBody(body);
        using var response = await SendCoreAsync(method, path, content, cancellationToken, idempotencyKey, repeatable: repeatable, precondition: precondition).ConfigureAwait(false);
        return await ReadAsync<TResponse>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A JSON body serialized once, with its length: every attempt sends the same bytes rather than serializing again, and
    /// the server sees the size before the body (<see cref="AsksBeforeSending"/>), where a streamed body is sent chunked.
    /// </summary>
    private static ReadOnlyMemoryContent JsonBody<T>(T body)
    {
        // Sent from the buffer it is written into; SerializeToUtf8Bytes copied a large body once more into an array of its own.
        var bytes = new ArrayBufferWriter<byte>();
        var options = PromptVaultJson.Options;
        using (var writer = new Utf8JsonWriter(bytes, new JsonWriterOptions { Encoder = options.Encoder, Indented = options.WriteIndented, MaxDepth = options.MaxDepth }))
            JsonSerializer.Serialize(writer, body, options);
        var content = new ReadOnlyMemoryContent(bytes.WrittenMemory);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    /// <summary>
    /// A body over 1 MB is sent only once the server asks for it (<c>Expect: 100-continue</c>). A server refusing it unread
    /// (413 over its body limit, 8 MB by default) answers at once, and the body is not sent; sent unasked, the server closed
    /// the connection under the body still being sent, and the client saw a lost connection instead of the 413, and sent it
    /// again. Smaller bodies, under every limit, skip the round trip.
    /// </summary>
    private static bool AsksBeforeSending(HttpContent? content) => content?.Headers.ContentLength > 1024 * 1024;

    private async Task<HttpResponseMessage> SendCoreAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken,
        string? idempotencyKey = null, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, bool longRunning = false,
        bool repeatable = false, Action<HttpRequestHeaders>? precondition = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(_baseAddress, path)) { Content = content };
        if (idempotencyKey is not null) request.Headers.Add(IdempotencyKey.HeaderName, idempotencyKey);
        precondition?.Invoke(request.Headers);
        if (longRunning) request.Options.Set(RequestRules.LongRunning, true);
        if (repeatable) request.Options.Set(RequestRules.Repeatable, true);
        return await SendCoreAsync(request, cancellationToken, completion: completion).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, CancellationToken cancellationToken, bool allowNotModified = false,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_authorization is not null) request.Headers.Authorization = _authorization;
        if (AsksBeforeSending(request.Content)) request.Headers.ExpectContinue = true;
        var response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode || (allowNotModified && response.StatusCode == HttpStatusCode.NotModified)) return response;
        using (response)
            throw await ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<TResponse> ReadAsync<TResponse>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<TResponse>(PromptVaultJson.Options, cancellationToken).ConfigureAwait(false)
                ?? throw InvalidResponse(response, "the body was empty");
        }
        catch (JsonException e)
        {
            throw InvalidResponse(response, e.Message);
        }
    }

    private static PromptVaultApiException InvalidResponse(HttpResponseMessage response, string reason) =>
        new(response.StatusCode, "invalid_response",
            $"The server answered {(int)response.StatusCode} with a body this client cannot read: {reason}");

    /// <summary>The response's <c>Retry-After</c>: seconds, or a date counted from the response's <c>Date</c> (the server's clock, not ours).</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } when response.Headers.Date is { } sent => date > sent ? date - sent : TimeSpan.Zero,
        _ => null,
    };

    /// <summary>Reads the RFC 9457 problem document (<c>detail</c>, extension members <c>code</c>, <c>field</c>, and a render's <c>promptName</c> and <c>version</c>) and the <c>Retry-After</c>.</summary>
    private static async Task<PromptVaultApiException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = response.StatusCode;
        var fallbackCode = "http_" + ((int)status).ToString(CultureInfo.InvariantCulture);
        var fallbackDetail = NotAProblemDetail(response);
        var retryAfter = RetryAfter(response);
        PromptVaultApiException Refusal(string code, string detail, string? field = null) => new(status, code, detail, field) { RetryAfter = retryAfter };
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(body)) return Refusal(fallbackCode, fallbackDetail);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return Refusal(fallbackCode, fallbackDetail);
            var code = String(root, "code");
            // PromptVault's every refusal carries its code: a 404 without one came from something else (another application).
            if (code is null && status == HttpStatusCode.NotFound) return Refusal(fallbackCode, fallbackDetail);
            var detail = String(root, "detail") ?? String(root, "title") ?? fallbackDetail;
            return new(status, code ?? fallbackCode, detail, String(root, "field"))
            {
                RetryAfter = retryAfter,
                PromptName = String(root, "promptName"),
                Version = String(root, "version"),
            };
        }
        catch (JsonException)
        {
            return Refusal(fallbackCode, fallbackDetail);
        }
    }

    /// <summary>
    /// An answer that is not PromptVault's problem document: a 404 of that kind (a reverse proxy's HTML page) says the URL
    /// requested reaches no PromptVault server, most likely a wrong server URL or path.
    /// </summary>
    private static string NotAProblemDetail(HttpResponseMessage response)
    {
        var answered = $"The server answered {(int)response.StatusCode} {response.ReasonPhrase}";
        if (response.StatusCode != HttpStatusCode.NotFound) return answered + ".";
        var type = response.Content.Headers.ContentType?.MediaType ?? "no content type";
        return $"{answered} ({type}) for {response.RequestMessage?.RequestUri}, without PromptVault's problem JSON: the URL likely does not point at a PromptVault server.";
    }

    private static string? String(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
