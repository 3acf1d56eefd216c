namespace PromptVault.Client;

/// <summary>
/// The SDK (SPEC §8): prompts resolved and rendered in process from the server's snapshot, and metric events queued and sent in
/// batches. Registered by <c>services.AddPromptVault(...)</c>; an interface so code that uses it can be tested without a server.
/// </summary>
/// <remarks>Thread-safe. No method makes a network call on the caller's path; recording never blocks.</remarks>
public interface IPromptVault
{
    /// <summary>
    /// Resolves the version to serve and renders it with <paramref name="variables"/>, from the snapshot, with the server's
    /// own rules: <paramref name="version"/> (a number such as <c>1.0.2</c>, a version id, or <c>latest</c> for the prompt's newest version) when given; else, with a
    /// <paramref name="unitId"/> and no label other than <c>production</c>, the unit's variant of the prompt's running
    /// experiment (its exposure is recorded in the background); else the version under <paramref name="label"/>
    /// (default <c>production</c>). A label and a version are separate parameters, so a label named <c>1.0.2</c> is a label.
    /// </summary>
    /// <param name="name">The prompt's name.</param>
    /// <param name="variables">The template's variables: strings, numbers, booleans, dictionaries and lists; null counts as absent.</param>
    /// <param name="unitId">The unit (user, session) to assign in a running experiment, up to 256 characters.</param>
    /// <param name="label">The label to serve; <c>production</c> by default.</param>
    /// <param name="version">The exact version to serve instead of the experiment's; not with <paramref name="label"/>.</param>
    /// <param name="cancellationToken">Cancels waiting for the first snapshot.</param>
    /// <exception cref="Core.NotFoundException">No such prompt (<c>prompt_not_found</c>), label (<c>label_not_found</c>) or version
    /// (<c>version_not_found</c>) in the snapshot.</exception>
    /// <exception cref="Core.ConflictException">The version named is archived (<c>version_archived</c>).</exception>
    /// <exception cref="Core.InvalidInputException">The variables break the version's contract (<c>missing_variable</c>, …), the unit id is blank or too long,
    /// or <paramref name="label"/> and <paramref name="version"/> are both given (<c>label_and_version</c>, as the server refuses them).</exception>
    /// <exception cref="PromptVaultUnavailableException">No snapshot could be loaded (server down at start and no fallback file) within the request timeout.</exception>
    ValueTask<ResolvedPrompt> GetPromptAsync(string name, IReadOnlyDictionary<string, object?>? variables = null, string? unitId = null,
        string? label = null, string? version = null, CancellationToken cancellationToken = default);

    /// <summary>Queues a metric event for the call that used <paramref name="resolution"/> (its version, experiment, variant and unit).</summary>
    /// <returns>A completed task: the event is sent in the background; <see cref="FlushAsync"/> waits for it.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A number of <paramref name="outcome"/> is one the server refuses: negative, too large, or not finite.</exception>
    /// <exception cref="ArgumentException">Text of <paramref name="outcome"/> (its id, error or metadata) holds U+0000 or a lone surrogate, its error is
    /// blank or too long, or its metadata is not a JSON object or too long: all of which the server refuses.</exception>
    ValueTask RecordAsync(ResolvedPrompt resolution, PromptOutcome outcome, CancellationToken cancellationToken = default);

    /// <summary>Queues a later metric event (a thumbs-up, a score, a conversion) for the call whose <see cref="ResolvedPrompt.ResolutionId"/> was kept, in this process or another.</summary>
    /// <exception cref="ArgumentException"><paramref name="resolutionId"/> is not a resolution id; or, as
    /// <see cref="ArgumentOutOfRangeException"/>, a number of <paramref name="outcome"/> is negative, too large or not finite; or
    /// <paramref name="outcome"/> holds text or metadata the server refuses, as for <see cref="RecordAsync"/>.</exception>
    ValueTask RecordFeedbackAsync(string resolutionId, PromptOutcome outcome, CancellationToken cancellationToken = default);

    /// <summary>Sends every event queued before the call, retrying while the server is unreachable, until done or cancelled.</summary>
    /// <exception cref="InvalidOperationException">The SDK stopped (the host stopping, the service provider disposed) before
    /// those events were sent; the message says how many were not.</exception>
    Task FlushAsync(CancellationToken cancellationToken = default);
}
