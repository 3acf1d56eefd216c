namespace PromptVault.Core;

/// <summary>
/// A refusal the caller can act on. <see cref="Code"/> is a stable snake_case string shared by the API, SDK and CLI;
/// <see cref="Field"/> names the input that was wrong, when one was.
/// </summary>
public abstract class PromptVaultException(string code, string message, string? field = null) : Exception(message)
{
    /// <summary>The stable snake_case error code, e.g. <c>version_unchanged</c>.</summary>
    public string Code { get; } = code;

    /// <summary>The request field the error is about (camelCase JSON path), if any.</summary>
    public string? Field { get; } = field;

    /// <summary>For a render's refusal (<see cref="Prompts.Serving.RenderRefused(InvalidInputException, string, string)"/>), the prompt rendered; null for any other refusal.</summary>
    public string? PromptName { get; init; }

    /// <summary>For a render's refusal, the version rendered (<c>1.2.0</c>; in an experiment, the unit's variant's); null for any other refusal.</summary>
    public string? Version { get; init; }
}

/// <summary>The input is malformed or breaks a rule (HTTP 400).</summary>
public sealed class InvalidInputException(string code, string message, string? field = null)
    : PromptVaultException(code, message, field)
{
    public InvalidInputException(string code, InvariantMessage message, string? field = null) : this(code, message.ToStringAndClear(), field) { }

    /// <summary>For a template the parser refused, where: the message says it too, counted from the template's start.</summary>
    public TemplateLocation? Location { get; init; }
}

/// <summary>Where in a template a refusal is (1-based), and the refusal without it, for a caller that counts lines its own way (a prompt file's reader).</summary>
public sealed record TemplateLocation(int Line, int Column, string Problem);

/// <summary>Something named by the request does not exist (HTTP 404).</summary>
public sealed class NotFoundException(string code, string message)
    : PromptVaultException(code, message)
{
    public NotFoundException(string code, InvariantMessage message) : this(code, message.ToStringAndClear()) { }
}

/// <summary>The request conflicts with the stored state (HTTP 409).</summary>
public sealed class ConflictException(string code, string message, string? field = null)
    : PromptVaultException(code, message, field)
{
    public ConflictException(string code, InvariantMessage message, string? field = null) : this(code, message.ToStringAndClear(), field) { }

    /// <summary>A new prompt's name is taken; stores raise it when their unique constraint on the name fires.</summary>
    public static ConflictException PromptExists(string name) =>
        new("prompt_exists", $"prompt '{name}' already exists; create a new version of it with POST /api/prompts/{name}/versions instead.", "name");

    /// <summary>The prompt already has an experiment of that name; stores raise it when their unique constraint fires.</summary>
    public static ConflictException ExperimentExists(string promptName, string name) =>
        new("experiment_exists", $"prompt '{promptName}' already has an experiment named '{name}'; choose another name.", "name");

    /// <summary>The prompt already has a running experiment (at most one may run); stores raise it when their unique constraint
    /// fires, naming the running one (<paramref name="runningName"/> and <paramref name="runningId"/>; null when it stopped since).</summary>
    public static ConflictException ExperimentRunning(string promptName, string? runningName, string? runningId) =>
        new("experiment_running", runningId is null
            ? $"prompt '{promptName}' already has a running experiment; pause, complete or cancel it first."
            : $"prompt '{promptName}' already has a running experiment, '{runningName}' ({runningId}); pause, complete or cancel it first.");

    /// <summary>Revoking this key would leave no active admin key; stores raise it inside the revoking transaction.</summary>
    public static ConflictException LastAdminKey(string id) =>
        new("last_admin_key", $"API key '{id}' is the last active admin key; create another admin key before revoking it.", "id");

    /// <summary>A resend of a delivery that is still pending (<paramref name="inFlight"/>: an attempt is being made now), which would
    /// send its event twice; stores raise it from the resending statement.</summary>
    public static ConflictException DeliveryInProgress(string webhookId, long deliveryId, bool inFlight, DateTimeOffset? nextAttemptAt) =>
        new("delivery_in_progress", string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"delivery {deliveryId} of webhook '{webhookId}' is still being delivered ({(inFlight ? "an attempt is in flight now" : $"its next attempt is due at {nextAttemptAt:O}")}); resend it once it is delivered or failed."),
            "deliveryId");
}

/// <summary>The request is well formed but cannot be applied as sent, e.g. an idempotency key reused for another request (HTTP 422).</summary>
public sealed class UnprocessableException(string code, string message, string? field = null)
    : PromptVaultException(code, message, field)
{
    public UnprocessableException(string code, InvariantMessage message, string? field = null) : this(code, message.ToStringAndClear(), field) { }
}

/// <summary>The state the request's <c>If-Match</c> expects is no longer the stored one; nothing was changed (HTTP 412).</summary>
public sealed class PreconditionFailedException(string code, string message, string? field = null)
    : PromptVaultException(code, message, field);

/// <summary>The caller may not do this (HTTP 403).</summary>
public sealed class ForbiddenException(string code, string message)
    : PromptVaultException(code, message)
{
    public ForbiddenException(string code, InvariantMessage message) : this(code, message.ToStringAndClear()) { }
}

/// <summary>
/// Thrown by a store when a write lost a race (another writer changed what this one read).
/// The registry re-reads and retries; callers of the registry never see it.
/// </summary>
public sealed class ConcurrentWriteException(string message) : Exception(message);

/// <summary>
/// Thrown by a store when its disk is full: the write was rolled back whole and nothing was stored. Transient once space
/// is freed (HTTP 503); the store writes again on the next request, with no restart.
/// </summary>
public sealed class StoreFullException(string message, Exception innerException) : Exception(message, innerException);

/// <summary>
/// Thrown by a store when its database may be read but not written (a read-only file, folder or filesystem; a PostgreSQL hot
/// standby or <c>default_transaction_read_only</c>): nothing was stored. Reads keep working (HTTP 503); the store writes again
/// on the next request, with no restart, once the database is writable. The message says so and names the database.
/// </summary>
public sealed class StoreReadOnlyException(string message, Exception innerException) : Exception(message, innerException);

/// <summary>
/// Thrown by a store when its database server cannot be reached (refused, gone, shutting down, or not answering): a write
/// that met it may or may not have committed. Transient (HTTP 503); the store connects again on the next request, with no restart.
/// </summary>
public sealed class StoreUnavailableException(string message, Exception innerException) : Exception(message, innerException);

/// <summary>A service PromptVault calls on the caller's behalf (a model provider) failed or could not be reached (HTTP 502).</summary>
public sealed class UpstreamFailedException(string code, string message)
    : PromptVaultException(code, message)
{
    public UpstreamFailedException(string code, InvariantMessage message) : this(code, message.ToStringAndClear()) { }
}

/// <summary>The server lacks a setting this request needs, e.g. no model is configured (HTTP 503); the message names the setting.</summary>
public sealed class NotConfiguredException(string code, string message)
    : PromptVaultException(code, message)
{
    public NotConfiguredException(string code, InvariantMessage message) : this(code, message.ToStringAndClear()) { }
}
