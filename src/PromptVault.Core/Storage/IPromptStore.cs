using System.Globalization;
using PromptVault.Core.Audit;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Versioning;

namespace PromptVault.Core.Storage;

/// <summary>
/// Persistence of prompts, versions, labels and the audit log. Reads return what is committed; every write goes through
/// <see cref="SaveAsync"/>, which applies a whole <see cref="PromptChanges"/> atomically or not at all.
/// </summary>
public interface IPromptStore
{
    Task<Prompt?> FindPromptAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Which of <paramref name="names"/> the store holds prompts of: read by those names alone, however many prompts it holds.</summary>
    Task<IReadOnlySet<string>> FindPromptNamesAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken = default);

    /// <summary>The prompts of <paramref name="names"/> the store holds (a name it does not hold is absent), read by those names alone.</summary>
    Task<IReadOnlyList<Prompt>> FindPromptsAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken = default);

    /// <summary>Prompts matching the filter, by name, each with its latest version and labels; the filter's page of them.</summary>
    Task<Page<PromptListing>> ListPromptsAsync(PromptFilter filter, CancellationToken cancellationToken = default);

    /// <summary>All versions of a prompt, newest first.</summary>
    Task<Page<PromptVersion>> ListVersionsAsync(string promptId, CancellationToken cancellationToken = default) =>
        ListVersionsAsync(promptId, PageRequest.All, cancellationToken);

    /// <summary>A page of a prompt's versions, newest first.</summary>
    Task<Page<PromptVersion>> ListVersionsAsync(string promptId, PageRequest page, CancellationToken cancellationToken = default);

    Task<PromptVersion?> FindVersionAsync(string promptId, SemanticVersion version, CancellationToken cancellationToken = default);

    /// <summary>The versions of <paramref name="pins"/> (a prompt's id and a version number) the store holds (one it does not hold is absent),
    /// read by those pins alone.</summary>
    Task<IReadOnlyList<PromptVersion>> FindVersionsAsync(IReadOnlyCollection<(string PromptId, SemanticVersion Version)> pins,
        CancellationToken cancellationToken = default);

    Task<PromptVersion?> FindVersionByIdAsync(string promptId, string versionId, CancellationToken cancellationToken = default);

    /// <summary>A version of any prompt, by id (metric events name a version only).</summary>
    Task<PromptVersion?> FindAnyVersionAsync(string versionId, CancellationToken cancellationToken = default);

    /// <summary>Every archived version of every prompt, in one read, by number within each prompt (the SDK snapshot's <c>archived</c>).</summary>
    Task<IReadOnlyList<ArchivedVersion>> ListArchivedVersionsAsync(CancellationToken cancellationToken = default);

    /// <summary>The numbers of the given versions, in one read (ids that do not exist are absent).</summary>
    Task<IReadOnlyDictionary<string, SemanticVersion>> FindVersionNumbersAsync(IReadOnlyCollection<string> versionIds, CancellationToken cancellationToken = default);

    Task<PromptVersion?> FindLatestVersionAsync(string promptId, CancellationToken cancellationToken = default);

    /// <summary>The version a label points at, in one read: the render path's lookup.</summary>
    Task<PromptVersion?> FindLabelledVersionAsync(string promptId, string label, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Label>> ListLabelsAsync(string promptId, CancellationToken cancellationToken = default);

    /// <summary>Every prompt that has the label, by name, each with the version the label points at, in one read (MCP's <c>prompts/list</c>).</summary>
    Task<IReadOnlyList<LabelledPrompt>> ListLabelledPromptsAsync(string label, CancellationToken cancellationToken = default);

    /// <summary>
    /// The include graph's generation: a counter that every write checked for includes advances (each label move or removal,
    /// a promotion, an archive, an experiment's start with includes, an import: <see cref="PromptChanges.IncludeGeneration"/>), so that the
    /// checks of includes, which read many prompts (cycles, depth, an includer's variables), can expect the graph they read
    /// to be the one their write lands on.
    /// </summary>
    Task<long> ReadIncludeGenerationAsync(CancellationToken cancellationToken = default);

    /// <summary>Applies the changes in one transaction.</summary>
    /// <exception cref="ConflictException">The new prompt's name is taken (<c>prompt_exists</c>).</exception>
    /// <exception cref="ConcurrentWriteException">Another writer got there first: a version number is taken, a status, label, prompt or the
    /// include graph's generation is no longer what the change expected.</exception>
    Task SaveAsync(PromptChanges changes, CancellationToken cancellationToken = default);

    /// <summary>Audit entries matching the query, newest first; the query's page of them.</summary>
    Task<Page<AuditEntry>> ListAuditAsync(AuditQuery query, CancellationToken cancellationToken = default);
}

/// <summary>
/// Filters for listing prompts; null matches anything. No page means all of them. <see cref="NameContains"/> matches the names
/// that hold it, ignoring case. <see cref="MayInclude"/> keeps the prompts whose latest or a labelled version may include the prompt
/// of that name (any prompt when empty): it only narrows, by the text of their templates, so the caller parses what it keeps.
/// </summary>
public sealed record PromptFilter(PromptType? Type = null, string? Category = null, string? Tag = null, PageRequest? Page = null, string? NameContains = null,
    string? MayInclude = null);

/// <summary>A prompt with its latest version and labels.</summary>
public sealed record PromptListing(Prompt Prompt, PromptVersion Latest, IReadOnlyList<Label> Labels);

/// <summary>A prompt with the version one of its labels points at.</summary>
public sealed record LabelledPrompt(Prompt Prompt, PromptVersion Version);

/// <summary>
/// Which audit entries to list; null matches anything. No page means all of them. The time window is <see cref="From"/>
/// inclusive to <see cref="To"/> exclusive. <see cref="Subject"/> is what an entry acted on (a version's number, an
/// experiment's name, a key's id).
/// </summary>
public sealed record AuditQuery(string? PromptName = null, string? Actor = null, string? Action = null, PageRequest? Page = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null, string? Subject = null)
{
    private static readonly string[] TimeFormats = ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF"];

    private static readonly string[] OffsetTimeFormats = ["yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    /// <summary>An ISO 8601 date or timestamp (as in <c>2026-12-01T06:30:00Z</c>); one without an offset is UTC (<see cref="RequestTime"/>). Blank is null.</summary>
    /// <exception cref="InvalidInputException">The text is not such a timestamp, or is one out of range; names <paramref name="field"/>.</exception>
    public static DateTimeOffset? ParseTime(string? text, string field) =>
        string.IsNullOrWhiteSpace(text) ? null
        : TryParseTime(text.Trim()) ?? throw new InvalidInputException("invalid_time", RequestTime.OutOfRange(text.Trim(), t => TryParseTime(t) is not null)
            ? $"{field} '{text}' {RequestTime.OutOfRangeRule}"
            : $"{field} '{text}' is not an ISO 8601 timestamp (e.g. 2026-12-01T06:30:00Z).", field);

    private static DateTimeOffset? TryParseTime(string text) =>
        DateTime.TryParseExact(text, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) ? RequestTime.WithoutOffset(time)
        : DateTimeOffset.TryParseExact(text, OffsetTimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var withOffset) ? withOffset
        : null;
}

/// <summary>Everything one use case writes, applied atomically by <see cref="IPromptStore.SaveAsync"/>.</summary>
public sealed record PromptChanges
{
    public Prompt? NewPrompt { get; init; }

    /// <summary>
    /// The prompt with new <c>UpdatedAt</c>/<c>UpdatedBy</c>, as the change read it: written only while its promotion gates
    /// (<c>RequireApproval</c>, <c>RequireTests</c>) are still the ones the change was checked against, or the save fails with
    /// <see cref="ConcurrentWriteException"/>, so a promote cannot slip past a gate an admin turns on meanwhile.
    /// </summary>
    public Prompt? TouchedPrompt { get; init; }

    /// <summary>The prompt's new own fields, if it is unchanged since they were decided (see <see cref="PromptUpdate"/>).</summary>
    public PromptUpdate? UpdatedPrompt { get; init; }

    /// <summary>A new version; its <c>Sequence</c> and number must be free, or the save fails with <see cref="ConcurrentWriteException"/>.</summary>
    public PromptVersion? NewVersion { get; init; }

    /// <summary>The new version's test cases, when it brings its own (SPEC §10).</summary>
    public IReadOnlyList<Evaluations.TestCase>? NewVersionTests { get; init; }

    /// <summary>The version whose test cases the new version carries forward, when it brings none of its own.</summary>
    public string? TestsFromVersionId { get; init; }

    public IReadOnlyList<StatusChange> StatusChanges { get; init; } = [];

    public IReadOnlyList<LabelChange> LabelChanges { get; init; } = [];

    /// <summary>
    /// The include graph's generation (<see cref="IPromptStore.ReadIncludeGenerationAsync"/>) read before the change's checks of
    /// includes, when the change was checked for includes: the change applies only if it is still current, and advances it.
    /// </summary>
    public long? IncludeGeneration { get; init; }

    /// <summary>
    /// The passed run a promote under <c>requireTests</c> was checked against: the change applies only if, in its own transaction,
    /// that run is still the version's latest and still ran the version's cases as they are (<see cref="Evaluations.TestCaseRules.Ran"/>),
    /// or the save fails with <see cref="ConcurrentWriteException"/>; so a PUT of new cases or a newer run landing meanwhile stops it.
    /// </summary>
    public PassedRun? PassedRun { get; init; }

    public IReadOnlyList<AuditEntry> Audit { get; init; } = [];

    /// <summary>The answer to keep for the request's <c>Idempotency-Key</c>, stored with the rest (see <see cref="IIdempotencyStore"/>).</summary>
    public IdempotencyRecord? Idempotency { get; init; }
}

/// <summary>The run <paramref name="RunId"/> of version <paramref name="VersionId"/> that let a promote through the <c>requireTests</c> gate.</summary>
public sealed record PassedRun(string VersionId, string RunId);

/// <summary>
/// Writes <paramref name="To"/>'s own fields (description, tags, category, the promotion gates) and <c>UpdatedAt</c>/<c>UpdatedBy</c>;
/// applies only if the prompt is unchanged since <paramref name="From"/> was read, as its <c>UpdatedAt</c> says (every write of a prompt sets it).
/// </summary>
public sealed record PromptUpdate(Prompt From, Prompt To);

/// <summary>Moves a version's status; applies only if the status is still <paramref name="From"/>.</summary>
/// <param name="Approval">The version's approval after the move (<see cref="PromptVersion.Approval"/>), written with the status.</param>
public sealed record StatusChange(string VersionId, VersionStatus From, VersionStatus To, Approval? Approval = null)
{
    /// <summary>Moves <paramref name="version"/> to <paramref name="to"/>: a move to <c>approved</c> records <paramref name="approval"/>,
    /// one back to review or draft drops the approval, any other keeps it.</summary>
    public static StatusChange Of(PromptVersion version, VersionStatus to, Approval? approval = null) =>
        new(version.Id, version.Status, to, to switch
        {
            VersionStatus.Approved => approval,
            VersionStatus.Review or VersionStatus.Draft => null,
            _ => version.Approval,
        });
}

/// <summary>Points a label at a version (null removes it); applies only if it still points at <paramref name="FromVersionId"/>.</summary>
public sealed record LabelChange(string PromptId, string Label, string? FromVersionId, string? ToVersionId, DateTimeOffset At, string By);

/// <summary>An archived version of the prompt <paramref name="PromptId"/>: its id and number, what is needed to refuse it by either.</summary>
public sealed record ArchivedVersion(string PromptId, string Id, SemanticVersion Version);
