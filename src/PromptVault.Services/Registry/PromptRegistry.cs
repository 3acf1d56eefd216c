using PromptVault.Core.Audit;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Experiments;
using PromptVault.Core.Idempotency;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Templates;
using PromptVault.Core.Versioning;

namespace PromptVault.Core.Registry;

/// <summary>
/// The prompt registry's use cases (SPEC §1–§2): each lives here once, and the API, CLI and dashboard only translate to a call.
/// Writes are optimistic: a write that lost a race (<see cref="ConcurrentWriteException"/>) is re-read and retried, so
/// concurrent new versions get distinct, consecutive numbers. Writes and the reads they decide on go to the store; rendering
/// reads through the <see cref="RegistryCache"/>, and every write is announced on the <see cref="RegistryChangeFeed"/>.
/// </summary>
public sealed class PromptRegistry(IPromptStore store, IMetricStore metrics, IExperimentStore experiments, TemplateEngine templates, TimeProvider time, IdempotentRequests idempotent,
    RegistryCache cache, RegistryChangeFeed changes, IEvaluationStore? evaluations = null)
{
    private const int MaxWriteAttempts = 200;
    private const string InitialChangeDescription = "Initial version";

    public Task<PromptResponse> CreatePromptAsync(CreatePromptRequest request, string actor, CancellationToken cancellationToken = default) =>
        CreatePromptAsync(request, actor, null, cancellationToken);

    /// <summary>The same, done at most once per <paramref name="idempotencyKey"/> (see <see cref="IdempotentRequests"/>).</summary>
    public async Task<PromptResponse> CreatePromptAsync(CreatePromptRequest request, string actor, IdempotencyKey? idempotencyKey, CancellationToken cancellationToken = default)
    {
        PromptRules.ValidatePromptName(request.Name);
        PromptRules.ValidateDescription(request.Description);
        PromptRules.ValidateTags(request.Tags, "tags");
        PromptRules.ValidateCategory(request.Category);
        var metadata = request.Metadata ?? PromptMetadata.Empty;
        var type = request.Type ?? PromptType.Template;
        var (body, _, _, _) = await WithIncludedContractAsync(request.Name!, ValidateVersionBody(type, request.Content, request.Messages, request.Variables ?? [], metadata), cancellationToken);
        var variables = body.Variables;
        TestCaseRules.EnsureSendable(request.Tests);
        var tests = request.Tests is null ? null : TestCaseRules.Validate(request.Tests, variables);

        return await idempotent.RunAsync<CreatePromptRequest, PromptResponse>(idempotencyKey, "create-prompt", request.Name!, request, async idempotency =>
        {
            var now = time.GetUtcNow();
            var prompt = new Prompt(Ids.New(now), request.Name!, request.Description ?? "", type,
                request.Tags ?? [], request.Category, now, actor, now, actor)
            {
                RequireApproval = request.RequireApproval ?? false,
                RequireTests = request.RequireTests ?? false,
            };
            var version = new PromptVersion(Ids.New(now), prompt.Id, 1, SemanticVersion.Initial, body.Content, variables, metadata,
                InitialChangeDescription, actor, now, VersionStatus.Draft) { Messages = body.Messages, DeclaredVariables = request.Variables ?? [] };
            var response = ToResponse(prompt, version, []);

            await SaveAsync(new PromptChanges
            {
                NewPrompt = prompt,
                NewVersion = version,
                NewVersionTests = tests,
                Audit =
                [
                    Entry(now, actor, AuditActions.PromptCreated, prompt.Name, null, null, new()
                    {
                        ["type"] = Names.Of(prompt.Type), ["description"] = prompt.Description,
                        ["requireApproval"] = Flag(prompt.RequireApproval), ["requireTests"] = Flag(prompt.RequireTests),
                    }),
                    VersionCreatedEntry(now, actor, prompt.Name, version),
                ],
                Idempotency = idempotency?.Invoke(response),
            }, cancellationToken);
            return response;
        }, cancellationToken);
    }

    /// <summary>Changes a prompt's own fields (<c>PATCH</c>); omitted ones stay. Who may change the gates is the caller's check.</summary>
    public async Task<PromptResponse> UpdatePromptAsync(string name, UpdatePromptRequest request, string actor, CancellationToken cancellationToken = default)
    {
        PromptRules.ValidateDescription(request.Description);
        PromptRules.ValidateTags(request.Tags, "tags");
        PromptRules.ValidateCategory(request.Category);

        return await WithRetryAsync(async () =>
        {
            var prompt = await RequirePromptAsync(name, cancellationToken);
            var updated = prompt with
            {
                Description = request.Description ?? prompt.Description,
                Tags = request.Tags ?? prompt.Tags,
                Category = request.Category is null ? prompt.Category : request.Category.Length == 0 ? null : request.Category,
                RequireApproval = request.RequireApproval ?? prompt.RequireApproval,
                RequireTests = request.RequireTests ?? prompt.RequireTests,
            };
            var (before, after) = (OwnFields(prompt), OwnFields(updated));
            foreach (var field in before.Keys.Where(k => before[k] == after[k]).ToList())
            {
                before.Remove(field);
                after.Remove(field);
            }
            if (after.Count > 0)
            {
                var now = time.GetUtcNow();
                updated = updated with { UpdatedAt = now, UpdatedBy = actor };
                await SaveAsync(new PromptChanges
                {
                    UpdatedPrompt = new PromptUpdate(prompt, updated),
                    Audit = [Entry(now, actor, AuditActions.PromptUpdated, prompt.Name, null, before, after)],
                }, cancellationToken);
            }
            var latest = await RequireLatestAsync(prompt, cancellationToken);
            return ToResponse(after.Count > 0 ? updated : prompt, latest, await store.ListLabelsAsync(prompt.Id, cancellationToken));
        });
    }

    private static Dictionary<string, string?> OwnFields(Prompt prompt) => new()
    {
        ["description"] = prompt.Description,
        ["tags"] = string.Join(", ", prompt.Tags),
        ["category"] = prompt.Category,
        ["requireApproval"] = Flag(prompt.RequireApproval),
        ["requireTests"] = Flag(prompt.RequireTests),
    };

    private static string Flag(bool value) => value ? "true" : "false";

    /// <exception cref="InvalidInputException">The category or tag holds U+0000.</exception>
    public async Task<PromptListResponse> ListPromptsAsync(PromptFilter filter, CancellationToken cancellationToken = default)
    {
        RefuseNulInFilter(filter.Category, "category");
        RefuseNulInFilter(filter.Tag, "tag");
        RefuseNulInFilter(filter.NameContains, "q");
        var listings = await store.ListPromptsAsync(filter, cancellationToken);
        return new PromptListResponse(listings.Select(l => ToResponse(l.Prompt, l.Latest, l.Labels)).ToList(), listings.Total);
    }

    /// <summary>Every prompt with a production version, by name, with that version, in one read: MCP's prompts.</summary>
    public Task<IReadOnlyList<LabelledPrompt>> ListServedPromptsAsync(CancellationToken cancellationToken = default) =>
        store.ListLabelledPromptsAsync(Label.Production, cancellationToken);

    public async Task<PromptResponse> GetPromptAsync(string name, CancellationToken cancellationToken = default)
    {
        var prompt = await RequirePromptAsync(name, cancellationToken);
        var latest = await RequireLatestAsync(prompt, cancellationToken);
        var labels = await store.ListLabelsAsync(prompt.Id, cancellationToken);
        return ToResponse(prompt, latest, labels);
    }

    public Task<VersionResponse> CreateVersionAsync(string name, CreateVersionRequest request, string actor, CancellationToken cancellationToken = default) =>
        CreateVersionAsync(name, request, actor, null, cancellationToken);

    /// <summary>The same, done at most once per <paramref name="idempotencyKey"/> (see <see cref="IdempotentRequests"/>): a retry
    /// gets the first answer even when other versions were created in between.</summary>
    public Task<VersionResponse> CreateVersionAsync(string name, CreateVersionRequest request, string actor, IdempotencyKey? idempotencyKey,
        CancellationToken cancellationToken = default) =>
        CreateVersionAsync(name, request, actor, idempotencyKey, null, cancellationToken);

    /// <summary>The same for a draft edited from the version with id <paramref name="basedOnVersionId"/> (the dashboard's editor): refused
    /// when that is no longer the latest version, so a draft never silently undoes a version saved after it was started.</summary>
    /// <exception cref="ConflictException">Another version was created since (<c>version_conflict</c>); nothing written.</exception>
    public Task<VersionResponse> CreateVersionFromAsync(string name, string basedOnVersionId, CreateVersionRequest request, string actor,
        CancellationToken cancellationToken = default) =>
        CreateVersionAsync(name, request, actor, null, basedOnVersionId, cancellationToken);

    private async Task<VersionResponse> CreateVersionAsync(string name, CreateVersionRequest request, string actor, IdempotencyKey? idempotencyKey,
        string? basedOnVersionId, CancellationToken cancellationToken)
    {
        var changeDescription = request.ChangeDescription?.Trim();
        PromptRules.ValidateChangeDescription(changeDescription);

        return await WithRetryAsync(() => idempotent.RunAsync<CreateVersionRequest, VersionResponse>(idempotencyKey, "create-version", name, request, async idempotency =>
        {
            var prompt = await RequirePromptAsync(name, cancellationToken);
            var latest = await RequireLatestAsync(prompt, cancellationToken);
            if (basedOnVersionId is not null && latest.Id != basedOnVersionId)
                throw new ConflictException("version_conflict",
                    $"version {latest.Version} of '{prompt.Name}' was saved after this draft was started; open the editor again to edit from it.");
            var metadata = request.Metadata ?? latest.Metadata;
            // What was declared is inherited; what the includes add is joined again, as they are now.
            var declared = request.Variables ?? latest.Declared;
            var (body, _, _, _) = await WithIncludedContractAsync(prompt.Name,
                ValidateVersionBody(prompt.Type, request.Content, request.Messages, declared, metadata), cancellationToken);
            var variables = body.Variables;
            TestCaseRules.EnsureSendable(request.Tests);
            var tests = request.Tests is null ? null : TestCaseRules.Validate(request.Tests, variables);

            if (body.SameAs(latest.Body, declared, latest.Declared))
                throw new ConflictException("version_unchanged",
                    $"nothing changed: {(body.Messages is null ? "content" : "messages")}, variables (declared and joined) and metadata equal the latest version {latest.Version} of '{prompt.Name}'.");

            var bump = ContractChange.Between(latest.Variables, variables).Resolve(request.Bump);
            var now = time.GetUtcNow();
            var version = NextVersion(prompt, latest, bump, body, changeDescription, actor, now) with { DeclaredVariables = declared };
            var response = ToResponse(prompt.Name, version, []);
            await SaveAsync(new PromptChanges
            {
                NewVersion = version,
                NewVersionTests = tests,
                TestsFromVersionId = tests is null ? latest.Id : null,
                TouchedPrompt = prompt with { UpdatedAt = now, UpdatedBy = actor },
                Audit = [VersionCreatedEntry(now, actor, prompt.Name, version)],
                Idempotency = idempotency?.Invoke(response),
            }, cancellationToken);
            return response;
        }, cancellationToken));
    }

    public async Task<VersionListResponse> ListVersionsAsync(string name, PageRequest page, CancellationToken cancellationToken = default)
    {
        var prompt = await RequirePromptAsync(name, cancellationToken);
        return await ListVersionsAsync(prompt.Id, prompt.Name, page, cancellationToken);
    }

    /// <summary>The same for a prompt the caller has already read: it is not looked up again.</summary>
    public Task<VersionListResponse> ListVersionsAsync(PromptResponse prompt, PageRequest page, CancellationToken cancellationToken = default) =>
        ListVersionsAsync(prompt.Id, prompt.Name, page, cancellationToken);

    private async Task<VersionListResponse> ListVersionsAsync(string promptId, string name, PageRequest page, CancellationToken cancellationToken)
    {
        var versions = await store.ListVersionsAsync(promptId, page, cancellationToken);
        var labels = await store.ListLabelsAsync(promptId, cancellationToken);
        return new VersionListResponse(name, versions.Select(v => ToResponse(name, v, labels)).ToList(), versions.Total);
    }

    public async Task<VersionResponse> GetVersionAsync(string name, string versionRef, CancellationToken cancellationToken = default)
    {
        var prompt = await RequirePromptAsync(name, cancellationToken);
        var version = await RequireVersionAsync(prompt, versionRef, cancellationToken);
        return ToResponse(prompt.Name, version, await store.ListLabelsAsync(prompt.Id, cancellationToken));
    }

    /// <summary>Moves a version through the lifecycle. Moving to <c>production</c> is a promote.</summary>
    /// <param name="expected">For a promote, the version numbers the production label must point at now (a request's <c>If-Match</c>),
    /// as for <see cref="MoveLabelAsync"/>; null to promote from wherever it is. Any other status takes none.</param>
    /// <exception cref="PreconditionFailedException">The production label points elsewhere than <paramref name="expected"/> (<c>label_moved</c>).</exception>
    public async Task<VersionResponse> ChangeStatusAsync(string name, string versionRef, VersionStatus? status, string actor,
        LabelExpectation? expected = null, CancellationToken cancellationToken = default)
    {
        if (status is null)
            throw new InvalidInputException("missing_status", $"status is required: one of {Names.AllOf<VersionStatus>()}.", "status");
        if (status == VersionStatus.Production)
            return await MoveLabelAsync(name, Label.Production, versionRef, actor, expected, cancellationToken);
        // If-Match: * asks nothing of the label here; it is accepted on any status change, as before it meant "set".
        if (expected is not null && expected != LabelExpectation.Anywhere)
            throw new InvalidInputException(expected.Set ? "invalid_if_match" : "invalid_if_none_match",
                $"{expected.Header} says where the production label must be, so it applies only to a move to production, not to {Names.Of(status.Value)}.", expected.Header);

        return await WithRetryAsync(async () =>
        {
            var prompt = await RequirePromptAsync(name, cancellationToken);
            var version = await RequireVersionAsync(prompt, versionRef, cancellationToken);
            var labels = await store.ListLabelsAsync(prompt.Id, cancellationToken);
            if (version.Status == status) return ToResponse(prompt.Name, version, labels);

            if (!VersionLifecycle.CanMove(version.Status, status.Value))
            {
                var allowed = VersionLifecycle.AllowedMoves(version.Status);
                throw new ConflictException("invalid_transition",
                    $"version {version.Version} cannot move from {Names.Of(version.Status)} to {Names.Of(status.Value)}; " +
                    (version.Status == VersionStatus.Production ? "promote another version to take it out of production." :
                     allowed.Count == 0 ? $"{Names.Of(version.Status)} is final." :
                     $"allowed: {string.Join(", ", allowed.Select(s => Names.Of(s)))}" + (VersionLifecycle.CanPromote(version.Status) ? ", or production by promoting it." : ".")),
                    "status");
            }
            if (status == VersionStatus.Approved)
                ApprovalRules.EnsureCanApprove(version, actor);
            var includeGeneration = status == VersionStatus.Archived ? await EnsureCanArchiveAsync(prompt, version, labels, cancellationToken) : (long?)null;

            var now = time.GetUtcNow();
            var change = StatusChange.Of(version, status.Value, new Approval(actor, now));
            var after = new Dictionary<string, string?> { ["status"] = Names.Of(status.Value) };
            if (change.Approval is { } approval && status == VersionStatus.Approved)
            {
                after["approvedBy"] = approval.By;
                after["approvedAt"] = approval.At.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            }
            await SaveAsync(new PromptChanges
            {
                StatusChanges = [change],
                TouchedPrompt = prompt with { UpdatedAt = now, UpdatedBy = actor },
                IncludeGeneration = includeGeneration,
                Audit = [Entry(now, actor, AuditActions.StatusChanged, prompt.Name, version.Version.ToString(),
                    new() { ["status"] = Names.Of(version.Status) }, after)],
            }, cancellationToken);
            return ToResponse(prompt.Name, version with { Status = status.Value, Approval = change.Approval }, labels);
        });
    }

    /// <summary>
    /// Refuses to archive a version that something may still serve: a label, a variant of an experiment that is not
    /// completed or cancelled, or a version that serves and includes it by number. The store makes the same check of labels and
    /// experiments in the write, and the write expects the include graph's generation, so one that lands meanwhile is retried into this refusal.
    /// </summary>
    /// <returns>The include graph's generation the check read, for the write to expect.</returns>
    private async Task<long> EnsureCanArchiveAsync(Prompt prompt, PromptVersion version, IReadOnlyList<Label> labels, CancellationToken cancellationToken)
    {
        var onIt = labels.Where(l => l.VersionId == version.Id).Select(l => l.Name).ToList();
        if (onIt.Count > 0)
            throw new ConflictException("version_labelled",
                $"version {version.Version} is labelled {string.Join(", ", onIt)}; move the label before archiving it.", "status");
        foreach (var experiment in await experiments.ListExperimentsAsync(prompt.Name, cancellationToken))
        {
            if (ExperimentLifecycle.HoldsVersions(experiment.Status) && experiment.Variants.FirstOrDefault(v => v.VersionId == version.Id) is { } variant)
                throw new ConflictException("version_in_experiment",
                    $"version {version.Version} is variant '{variant.Name}' of experiment '{experiment.Name}', which is {Names.Of(experiment.Status)}; " +
                    "complete or cancel the experiment before archiving the version.", "status");
        }
        return await EnsureNotIncludedAsync(prompt.Name, r => r.Version == version.Version, includers => new ConflictException("version_included",
            $"version {version.Version} is included by {includers}; archived, it would break their renders. " +
            "Move those labels (or end those experiments) to versions that do not include it before archiving it.", "status"), cancellationToken);
    }

    /// <summary>Points a label at a version. The <c>production</c> label is a promote: the version becomes <c>production</c> and the one it replaces <c>deprecated</c>.</summary>
    /// <param name="expected">The version numbers the label must point at now (a request's <c>If-Match</c>), or null to move it from wherever it is.</param>
    /// <exception cref="PreconditionFailedException">The label points elsewhere than <paramref name="expected"/> (<c>label_moved</c>).</exception>
    public async Task<VersionResponse> MoveLabelAsync(string name, string label, string? versionRef, string actor,
        LabelExpectation? expected = null, CancellationToken cancellationToken = default)
    {
        PromptRules.ValidateLabel(label);
        if (string.IsNullOrWhiteSpace(versionRef))
            throw new InvalidInputException("missing_version", "version is required: a version number such as 1.0.2, or a version id.", "version");

        return await WithRetryAsync(async () =>
        {
            var prompt = await RequirePromptAsync(name, cancellationToken);
            var target = await RequireVersionAsync(prompt, versionRef, cancellationToken);
            var labels = await store.ListLabelsAsync(prompt.Id, cancellationToken);
            EnsureLabelAt(prompt, label, labels, expected);
            var now = time.GetUtcNow();
            if (await LabelMoveAsync(prompt, target, label, labels, now, actor, cancellationToken) is not { } changes)
                return ToResponse(prompt.Name, target, labels);
            await SaveAsync(changes, cancellationToken);

            var moved = labels.Where(l => l.Name != label).Append(new Label(prompt.Id, label, target.Id, target.Version, now, actor)).ToList();
            var promoted = label == Label.Production ? target with { Status = VersionStatus.Production } : target;
            return ToResponse(prompt.Name, promoted, moved);
        });
    }

    /// <summary>
    /// The writes of promoting <paramref name="versionId"/> of <paramref name="name"/>, checked by the gates a promote checks
    /// (<see cref="MoveLabelAsync"/>), for a caller that writes them with its own change in one transaction: an experiment
    /// completing with <c>promoteWinner</c>. Null when the version is in production already (the promote is a no-op).
    /// </summary>
    /// <exception cref="PromptVaultException">A gate refuses the promote, or the prompt or version is gone.</exception>
    internal async Task<PromptChanges?> PromotionAsync(string name, string versionId, DateTimeOffset now, string actor, CancellationToken cancellationToken)
    {
        var prompt = await RequirePromptAsync(name, cancellationToken);
        var target = await RequireVersionAsync(prompt, versionId, cancellationToken);
        var labels = await store.ListLabelsAsync(prompt.Id, cancellationToken);
        return await LabelMoveAsync(prompt, target, Label.Production, labels, now, actor, cancellationToken);
    }

    /// <summary>
    /// The writes of moving <paramref name="label"/> to <paramref name="target"/> (a promote for <c>production</c>), after its
    /// gates (<see cref="EnsureCanMoveLabelAsync"/>); null when the label is on it already, which no gate refuses.
    /// </summary>
    private async Task<PromptChanges?> LabelMoveAsync(Prompt prompt, PromptVersion target, string label, IReadOnlyList<Label> labels, DateTimeOffset now,
        string actor, CancellationToken cancellationToken)
    {
        var current = labels.FirstOrDefault(l => l.Name == label);
        if (current?.VersionId == target.Id) return null;
        var (includeGeneration, passedRun) = await EnsureCanMoveLabelAsync(prompt, target, label, cancellationToken);

        var previous = current is null ? null : await store.FindVersionByIdAsync(prompt.Id, current.VersionId, cancellationToken);
        var changes = label == Label.Production
            ? Promotion(prompt, target, previous, now, actor, passedRun)
            : new PromptChanges
            {
                LabelChanges = [new LabelChange(prompt.Id, label, current?.VersionId, target.Id, now, actor)],
                Audit = [Entry(now, actor, AuditActions.LabelMoved, prompt.Name, label,
                    new() { ["version"] = previous?.Version.ToString() }, new() { ["version"] = target.Version.ToString() })],
            };
        return changes with { TouchedPrompt = prompt with { UpdatedAt = now, UpdatedBy = actor }, IncludeGeneration = includeGeneration };
    }

    /// <summary>
    /// The gates of moving <paramref name="label"/> to <paramref name="target"/>: it is not archived and closes no cycle of
    /// includes through the prompts that serve it (includers follow the label); into production, it is also approved when
    /// the prompt requires approval, and its tests passed when the prompt requires tests.
    /// </summary>
    /// <returns>The include graph's generation for the write to expect, and the passed evaluation run (production under <c>requireTests</c>).</returns>
    private async Task<(long? IncludeGeneration, string? PassedRun)> EnsureCanMoveLabelAsync(Prompt prompt, PromptVersion target, string label,
        CancellationToken cancellationToken)
    {
        if (!VersionLifecycle.CanPromote(target.Status))
            throw new ConflictException("version_archived", $"version {target.Version} is archived and can never serve traffic.", "version");
        var includeGeneration = await EnsureIncludesCanServeAsync(prompt.Name, target, label, cancellationToken);
        if (label != Label.Production)
            return (includeGeneration, null);
        if (ApprovalRules.PromotionRefused(prompt, target) is { } refused)
            throw refused;
        return (includeGeneration, await RequirePassedRunAsync(prompt, target, cancellationToken));
    }

    /// <summary>
    /// Takes a label off its version, so nothing resolves through it any more (renders and SDK snapshots included).
    /// <c>production</c> cannot be removed: it is moved (promote) or rolled back, so a prompt that has served traffic keeps serving it.
    /// </summary>
    /// <param name="expected">The version numbers the label must point at now (a request's <c>If-Match</c>), or null to remove it wherever it is.</param>
    /// <exception cref="PreconditionFailedException">The label points elsewhere than <paramref name="expected"/> (<c>label_moved</c>).</exception>
    public async Task RemoveLabelAsync(string name, string label, string actor,
        LabelExpectation? expected = null, CancellationToken cancellationToken = default)
    {
        PromptRules.ValidateLabel(label);
        if (label == Label.Production)
            throw new ConflictException("production_label_required",
                "the production label cannot be removed: promote another version or roll back instead.", "label");
        if (expected is { Set: false })
            throw new InvalidInputException("invalid_if_none_match",
                "If-None-Match: * expects the label not set, which no removal can meet: send If-Match with the version it points at, or * (set anywhere).", expected.Header);

        await WithRetryAsync(async () =>
        {
            var prompt = await RequirePromptAsync(name, cancellationToken);
            var labels = await store.ListLabelsAsync(prompt.Id, cancellationToken);
            // An absent label is 404 whatever If-Match says: a client repeating its own removal takes that 404 as its success.
            var current = labels.FirstOrDefault(l => l.Name == label)
                ?? throw new NotFoundException("label_not_found", $"prompt '{prompt.Name}' has no label '{label}'.");
            EnsureLabelAt(prompt, label, labels, expected);
            var includeGeneration = await EnsureNotIncludedAsync(prompt.Name, r => r.Label == label, includers => new ConflictException("label_included",
                $"label '{label}' of '{prompt.Name}' is included by {includers}; removed, their renders would fail. " +
                "Move those labels (or end those experiments) to versions that do not include it before removing it.", "label"), cancellationToken);

            var now = time.GetUtcNow();
            await SaveAsync(new PromptChanges
            {
                TouchedPrompt = prompt with { UpdatedAt = now, UpdatedBy = actor },
                LabelChanges = [new LabelChange(prompt.Id, label, current.VersionId, null, now, actor)],
                IncludeGeneration = includeGeneration,
                Audit = [Entry(now, actor, AuditActions.LabelRemoved, prompt.Name, label,
                    new() { ["version"] = current.Version.ToString() }, new() { ["version"] = null })],
            }, cancellationToken);
            return true;
        });
    }

    /// <summary>
    /// A label write's precondition: the label is where <paramref name="expected"/> says (at one of its versions, set, or not set). The write that
    /// follows expects the label where it was read (<see cref="LabelChange.FromVersionId"/>, checked in the store's transaction),
    /// so a move landing between the two is retried into this refusal rather than undone.
    /// </summary>
    private static void EnsureLabelAt(Prompt prompt, string label, IReadOnlyList<Label> labels, LabelExpectation? expected)
    {
        var current = labels.FirstOrDefault(l => l.Name == label);
        if (expected is null || expected.IsMetBy(current?.Version.ToString())) return;
        throw new PreconditionFailedException("label_moved",
            $"label '{label}' of '{prompt.Name}' {(current is null ? "is not set" : $"points at version {current.Version}")}; {expected.Header} expects it {expected}: " +
            "someone else changed it. " + (current is null
                ? $"It is not in labels of GET /api/prompts/{prompt.Name}: send If-None-Match: * instead to make this change only while it is still not set."
                : $"Send If-Match with the version it points at now, quoted (\"{current.Version}\"): the label's version in labels of " +
                  $"GET /api/prompts/{prompt.Name}, or the ETag the last move of it answered."), expected.Header);
    }

    /// <summary>Creates a new version with an earlier version's content, variables and metadata, and promotes it.</summary>
    /// <param name="expected">The version numbers the production label must point at now (a request's <c>If-Match</c>), or null to roll back from wherever it is.</param>
    /// <exception cref="PreconditionFailedException">The production label points elsewhere than <paramref name="expected"/> (<c>label_moved</c>).</exception>
    public async Task<VersionResponse> RollbackAsync(string name, string? versionRef, string? reason, string actor,
        LabelExpectation? expected = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(versionRef))
            throw new InvalidInputException("missing_version", "version is required: the version to roll back to.", "version");
        PromptRules.ValidateLength(reason, PromptRules.MaxChangeDescriptionLength, "reason");

        return await WithRetryAsync(async () =>
        {
            var prompt = await RequirePromptAsync(name, cancellationToken);
            var target = await RequireVersionAsync(prompt, versionRef, cancellationToken);
            var latest = await RequireLatestAsync(prompt, cancellationToken);
            var labels = await store.ListLabelsAsync(prompt.Id, cancellationToken);
            EnsureLabelAt(prompt, Label.Production, labels, expected);
            var production = labels.FirstOrDefault(l => l.Name == Label.Production);
            if (production?.VersionId == target.Id)
                throw new ConflictException("already_in_production", $"version {target.Version} is already in production.", "version");
            var previous = production is null ? null : await store.FindVersionByIdAsync(prompt.Id, production.VersionId, cancellationToken);
            // Another copy of what serves would only add an identical version (a rollback repeated, or retried after its answer was lost).
            if (previous is not null && previous.Body.SameAs(target.Body, previous.Declared, target.Declared))
                throw new ConflictException("already_in_production",
                    $"version {target.Version}'s content, variables and metadata are already in production, as version {previous.Version}.", "version");
            var includeGeneration = await EnsureIncludesCanServeAsync(prompt.Name, target, Label.Production, cancellationToken);
            if (ApprovalRules.PromotionRefused(prompt, target) is { } refused)
                throw refused;

            var now = time.GetUtcNow();
            var bump = ContractChange.Between(latest.Variables, target.Variables).RequiredBump;
            var version = NextVersion(prompt, latest, bump, target.Body, $"Rollback to version {target.Version}", actor, now)
                with { Status = VersionStatus.Production, Approval = target.Approval, DeclaredVariables = target.DeclaredVariables };

            var (statusChanges, labelChange) = Promote(prompt, version, previous, now, actor);
            await SaveAsync(new PromptChanges
            {
                NewVersion = version,
                // The tests written for the content rolled back to.
                TestsFromVersionId = target.Id,
                TouchedPrompt = prompt with { UpdatedAt = now, UpdatedBy = actor },
                StatusChanges = statusChanges,
                LabelChanges = [labelChange],
                IncludeGeneration = includeGeneration,
                Audit =
                [
                    VersionCreatedEntry(now, actor, prompt.Name, version),
                    Entry(now, actor, AuditActions.RolledBack, prompt.Name, version.Version.ToString(),
                        new() { ["production"] = previous?.Version.ToString() },
                        new() { ["production"] = version.Version.ToString(), ["rolledBackTo"] = target.Version.ToString(), ["reason"] = reason }),
                ],
            }, cancellationToken);
            var moved = labels.Where(l => l.Name != Label.Production).Append(new Label(prompt.Id, Label.Production, version.Id, version.Version, now, actor)).ToList();
            return ToResponse(prompt.Name, version, moved);
        });
    }

    public async Task<ComparisonResponse> CompareAsync(string name, string? a, string? b, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(a)) throw new InvalidInputException("missing_version", "a is required: the first version to compare.", "a");
        if (string.IsNullOrWhiteSpace(b)) throw new InvalidInputException("missing_version", "b is required: the second version to compare.", "b");
        var prompt = await RequirePromptAsync(name, cancellationToken);
        var first = await RequireVersionAsync(prompt, a, cancellationToken);
        var second = await RequireVersionAsync(prompt, b, cancellationToken);
        return VersionComparer.Compare(prompt.Name, first, second,
            await metrics.ReadVersionTotalAsync(first.Id, cancellationToken), await metrics.ReadVersionTotalAsync(second.Id, cancellationToken));
    }

    /// <summary>
    /// The prompt named and its version under <paramref name="label"/>, read once from the <see cref="RegistryCache"/> as a render
    /// reads them: MCP's prompts/get describes and renders that one version.
    /// </summary>
    /// <returns>The version is null when the label is on none.</returns>
    public async ValueTask<(Prompt Prompt, PromptVersion? Version)> FindServedAsync(string name, string label, CancellationToken cancellationToken = default)
    {
        var prompt = await RequireServedPromptAsync(name, cancellationToken);
        return (prompt, await cache.FindLabelledVersionAsync(prompt.Id, label, cancellationToken));
    }

    /// <summary>Resolves the version to serve (an exact version, or the one under a label, default production) and renders it.</summary>
    public async Task<RenderResponse> RenderAsync(string name, RenderRequest request, CancellationToken cancellationToken = default) =>
        await RenderAsync(await RequireServedPromptAsync(name, cancellationToken), request, cancellationToken);

    /// <summary>The same for a prompt the caller has read already.</summary>
    internal async Task<RenderResponse> RenderAsync(Prompt prompt, RenderRequest request, CancellationToken cancellationToken) =>
        await RenderAsync(prompt, await ServedVersionAsync(prompt, request, cancellationToken), request, cancellationToken: cancellationToken);

    /// <summary>The version a render request names (its version, else its label, else production), read for serving; archived or not.
    /// A ValueTask: from the cache it completes at once, and a label render allocates no task for it.</summary>
    internal async ValueTask<PromptVersion> ServedVersionAsync(Prompt prompt, RenderRequest request, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(request.Version))
            return await RequireVersionAsync(prompt, request.Version, served: true, cancellationToken);
        var label = request.Label ?? Label.Production;
        PromptRules.ValidateLabel(label);
        return await cache.FindLabelledVersionAsync(prompt.Id, label, cancellationToken) ?? throw Serving.LabelNotFound(prompt.Name, label);
    }

    /// <summary>
    /// The variables a render of <paramref name="version"/> of <paramref name="promptName"/> takes now: its saved contract joined
    /// (<see cref="PromptIncludes.MergeContract"/>) by those of the versions its includes hold now, resolved through the
    /// <see cref="RegistryCache"/> as <see cref="RenderAsync(Prompt, PromptVersion, RenderRequest, string?, string?, CancellationToken)"/>
    /// resolves them: a variable an included prompt's label has since come to require is required here too (MCP's arguments).
    /// </summary>
    /// <returns>The saved contract when the includes no longer resolve or join (a render of the version refuses, naming why).</returns>
    public async ValueTask<IReadOnlyList<VariableDefinition>> ServingContractAsync(string promptName, PromptVersion version, CancellationToken cancellationToken = default)
    {
        var references = templates.ReferencesOf(version);
        if (references.Count == 0) return version.Variables;
        try
        {
            return (await ResolveIncludesAsync(promptName, references, served: true, cancellationToken)).MergeContract(version.Variables);
        }
        catch (PromptVaultException e) when (e is InvalidInputException or ConflictException)
        {
            return version.Variables;
        }
    }

    /// <summary>The same for <paramref name="versionRef"/> (a number, an id or <c>latest</c>) of the prompt named <paramref name="name"/>.</summary>
    public async ValueTask<IReadOnlyList<VariableDefinition>> ServingContractAsync(string name, string versionRef, CancellationToken cancellationToken = default)
    {
        var prompt = await RequireServedPromptAsync(name, cancellationToken);
        return await ServingContractAsync(prompt.Name, await RequireVersionAsync(prompt, versionRef, served: true, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Renders <paramref name="version"/> with the request's variables, its includes resolved now from the
    /// <see cref="RegistryCache"/> (so a label moved on an included prompt shows at once); archived versions never serve.
    /// </summary>
    internal async ValueTask<RenderResponse> RenderAsync(Prompt prompt, PromptVersion version, RenderRequest request, string? experimentId = null,
        string? variantId = null, CancellationToken cancellationToken = default)
    {
        Serving.EnsureServable(prompt.Name, version.Version.ToString(), version.Status);
        PromptIncludes includes;
        string? content;
        IReadOnlyList<PromptMessage>? messages;
        try
        {
            includes = await ResolveIncludesAsync(prompt.Name, templates.ReferencesOf(version), served: true, cancellationToken);
            content = version.Messages is null ? templates.For(version).Render(request.Variables, includes) : null;
            messages = version.Messages is null ? null : templates.ChatFor(version.Id, version.Messages, version.Variables).Render(request.Variables, includes);
        }
        catch (InvalidInputException e)
        {
            throw Serving.RenderRefused(e, prompt.Name, version.Version.ToString());
        }
        catch (ConflictException e)
        {
            throw Serving.RenderRefused(e, prompt.Name, version.Version.ToString());
        }
        return new RenderResponse(content, prompt.Name, version.Version.ToString(), version.Id, experimentId, variantId, version.Metadata)
        {
            References = includes.Versions,
            Messages = messages,
        };
    }

    /// <summary>
    /// Renders a template that is not saved yet (the dashboard's live preview) as a render of it would once saved, and gives the
    /// contract a save would store: the declared variables with those of the versions it includes.
    /// </summary>
    /// <param name="inputsFor">The inputs to render with, given that contract: the editor offers a test value for each variable an include adds,
    /// required ones too, so it learns them before the render that needs them.</param>
    /// <exception cref="InvalidInputException">The draft would be refused on save, or the inputs do not fit its contract.</exception>
    /// <exception cref="ConflictException">Its includes form a cycle.</exception>
    public async Task<(string Output, IReadOnlyList<VariableDefinition> Contract)> PreviewDraftAsync(string name, string content,
        IReadOnlyList<VariableDefinition> variables, Func<IReadOnlyList<VariableDefinition>, IReadOnlyDictionary<string, System.Text.Json.JsonElement>?> inputsFor,
        CancellationToken cancellationToken = default)
    {
        var (template, includes, contract) = await TextDraftAsync(name, content, variables, cancellationToken);
        // Rendered with the contract a save would store, as the saved version renders; compiled once.
        return (template.WithContract(contract).Render(inputsFor(contract), includes), contract);
    }

    /// <summary>The same for a chat prompt's unsaved messages: each rendered with the versions its includes hold now.</summary>
    /// <inheritdoc cref="PreviewDraftAsync" path="/param[@name='inputsFor']"/>
    /// <inheritdoc cref="PreviewDraftAsync" path="/exception"/>
    public async Task<(IReadOnlyList<PromptMessage> Messages, IReadOnlyList<VariableDefinition> Contract)> PreviewChatDraftAsync(string name,
        IReadOnlyList<PromptMessage> messages, IReadOnlyList<VariableDefinition> variables,
        Func<IReadOnlyList<VariableDefinition>, IReadOnlyDictionary<string, System.Text.Json.JsonElement>?> inputsFor, CancellationToken cancellationToken = default)
    {
        var (chat, includes, contract) = await ChatDraftAsync(name, messages, variables, cancellationToken);
        // Rendered with the contract a save would store; compiled once, as a text draft.
        return (chat.WithContract(contract).Render(inputsFor(contract), includes), contract);
    }

    /// <summary>
    /// The contract an unsaved version of <paramref name="name"/> (its <paramref name="content"/>, or a chat prompt's <paramref name="messages"/>)
    /// would be saved and previewed with: <paramref name="variables"/> joined by those of the versions it includes. Nothing is rendered.
    /// </summary>
    /// <inheritdoc cref="PreviewDraftAsync" path="/exception"/>
    public async Task<IReadOnlyList<VariableDefinition>> DraftVariablesAsync(string name, string content, IReadOnlyList<PromptMessage>? messages,
        IReadOnlyList<VariableDefinition> variables, CancellationToken cancellationToken = default) =>
        messages is not null
            ? (await ChatDraftAsync(name, messages, variables, cancellationToken)).Contract
            : (await TextDraftAsync(name, content, variables, cancellationToken)).Contract;

    /// <summary>A draft's template compiled, its includes as they serve now, and the contract those give it: the one place the previews
    /// and <see cref="DraftVariablesAsync"/> learn it.</summary>
    private async Task<(CompiledPrompt Template, PromptIncludes Includes, IReadOnlyList<VariableDefinition> Contract)> TextDraftAsync(string name,
        string content, IReadOnlyList<VariableDefinition> variables, CancellationToken cancellationToken)
    {
        var template = templates.CompileDraft(content, variables);
        var includes = await ResolveIncludesAsync(name, template.References, served: true, cancellationToken);
        return (template, includes, includes.MergeContract(variables));
    }

    /// <inheritdoc cref="TextDraftAsync"/>
    private async Task<(CompiledChat Chat, PromptIncludes Includes, IReadOnlyList<VariableDefinition> Contract)> ChatDraftAsync(string name,
        IReadOnlyList<PromptMessage> messages, IReadOnlyList<VariableDefinition> variables, CancellationToken cancellationToken)
    {
        var chat = templates.CompileChatDraft(messages, variables);
        var includes = await ResolveChatIncludesAsync(name, chat, served: true, cancellationToken);
        return (chat, includes, includes.MergeContract(variables));
    }

    /// <summary>
    /// Renders an unsaved version of <paramref name="prompt"/> (the playground's edits) as a save of it would store and render it: its body
    /// is checked as a new version's is, compiled once, and its includes resolved once, from the store as a save resolves them (not from
    /// this server's cache, which may not have seen a label moved through another server yet). Nothing is stored. What the draft leaves
    /// out (variables, metadata) comes from the version it edits, as in a new version.
    /// </summary>
    /// <param name="field">Where the draft sits in the request (<c>drafts[0]</c>): errors about its body name their field under it.</param>
    /// <returns>The render, carrying the edited version's number and no id.</returns>
    internal async Task<RenderResponse> RenderDraftAsync(Prompt prompt, PlaygroundDraft draft, IReadOnlyDictionary<string, System.Text.Json.JsonElement>? inputs,
        string field, CancellationToken cancellationToken)
    {
        var edited = await RequireVersionAsync(prompt, draft.Version ?? Serving.LatestVersion, cancellationToken);
        var declared = draft.Variables ?? edited.Declared;
        CompiledBody compiled;
        try
        {
            compiled = await WithIncludedContractAsync(prompt.Name,
                ValidateVersionBody(prompt.Type, draft.Content, draft.Messages, declared, draft.Metadata ?? edited.Metadata), cancellationToken);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException(e.Code, $"{field}: {e.Message}", Under(e.Field));
        }
        catch (ConflictException e)
        {
            // An include that closes a cycle.
            throw new ConflictException(e.Code, $"{field}: {e.Message}", Under(e.Field));
        }
        var (body, text, chat, includes) = compiled;
        // Rendered with the contract a save would store, as the saved version renders.
        var content = text?.WithContract(body.Variables).Render(inputs, includes);
        var messages = chat?.WithContract(body.Variables).Render(inputs, includes);
        return new RenderResponse(content, prompt.Name, edited.Version.ToString(), "", null, null, body.Metadata) { Messages = messages };

        string Under(string? inDraft) => inDraft is null ? field : $"{field}.{inDraft}";
    }

    /// <summary>What the prompts that <paramref name="name"/>'s versions include, and that include it, are now (the dashboard).</summary>
    public async Task<IncludeGraph> ReadIncludesAsync(string name, CancellationToken cancellationToken = default)
    {
        var prompt = await RequireServedPromptAsync(name, cancellationToken);
        var latest = await RequireLatestAsync(prompt, cancellationToken);
        var labels = await store.ListLabelsAsync(prompt.Id, cancellationToken);
        var includes = new List<IncludeLink>();
        foreach (var version in await VersionsToShowAsync(prompt, latest, labels, cancellationToken))
            includes.AddRange(templates.ReferencesOf(version).Select(r => new IncludeLink(prompt.Name, version.Version.ToString(), r)));

        var includedBy = new List<IncludeLink>();
        foreach (var (other, otherLatest, otherLabels) in await store.ListPromptsAsync(new PromptFilter(MayInclude: prompt.Name), cancellationToken))
        {
            if (other.Id == prompt.Id) continue;
            foreach (var version in await VersionsToShowAsync(other, otherLatest, otherLabels, cancellationToken))
                includedBy.AddRange(templates.ReferencesOf(version).Where(r => r.Name == prompt.Name)
                    .Select(r => new IncludeLink(other.Name, version.Version.ToString(), r)));
        }
        return new IncludeGraph(includes.Distinct().ToList(), includedBy.Distinct().ToList());
    }

    /// <summary>The versions whose includes matter: the newest and each labelled one.</summary>
    private async Task<List<PromptVersion>> VersionsToShowAsync(Prompt prompt, PromptVersion latest, IReadOnlyList<Label> labels, CancellationToken cancellationToken)
    {
        var versions = new List<PromptVersion> { latest };
        foreach (var versionId in labels.Select(l => l.VersionId).Where(id => id != latest.Id).Distinct(StringComparer.Ordinal))
        {
            if (await cache.FindVersionByIdAsync(prompt.Id, versionId, cancellationToken) is { } version)
                versions.Add(version);
        }
        return versions;
    }

    /// <summary>
    /// A new version's body compiled once, with the declared contract joined by the variables of every version it includes (SPEC §7),
    /// after checking that each include resolves now in the store and none closes a cycle. A label reference adds the variables of the
    /// version the label holds now.
    /// </summary>
    private async Task<CompiledBody> WithIncludedContractAsync(string name, VersionBody body, CancellationToken cancellationToken)
    {
        if (body.Messages is not { } messages)
        {
            var text = templates.Compile(body.Content, body.Variables);
            var includes = await ResolveIncludesAsync(name, text.References, served: false, cancellationToken);
            return new(body with { Variables = includes.MergeContract(body.Variables) }, text, null, includes);
        }
        var chat = templates.CompileChat(messages, body.Variables);
        var together = await ResolveChatIncludesAsync(name, chat, served: false, cancellationToken);
        return new(body with { Variables = together.MergeContract(body.Variables) }, null, chat, together);
    }

    /// <summary>The includes of a chat body's messages, each message's resolved alone so that a refusal (an include
    /// that names no version, a cycle) names its field, <c>messages[j].content</c>, then joined.</summary>
    /// <param name="served">Read the registry cache (the live preview) rather than the store (a save).</param>
    private async Task<PromptIncludes> ResolveChatIncludesAsync(string name, CompiledChat chat, bool served, CancellationToken cancellationToken)
    {
        var each = new List<PromptIncludes>();
        for (var i = 0; i < chat.MessageCount; i++)
        {
            var field = $"messages[{i}].content";
            try
            {
                each.Add(await ResolveIncludesAsync(name, chat.ReferencesOf(i), served, cancellationToken));
            }
            catch (InvalidInputException e) when (e.Field == "content")
            {
                throw new InvalidInputException(e.Code, $"{field}: {e.Message}", field);
            }
            catch (ConflictException e) when (e.Field == "content")
            {
                throw new ConflictException(e.Code, $"{field}: {e.Message}", field);
            }
        }
        return PromptIncludes.Together(each);
    }

    /// <summary>A new version's body with its joined contract (<see cref="VersionBody.Variables"/>), its template or messages compiled
    /// with the declared variables, and the versions it includes.</summary>
    private sealed record CompiledBody(VersionBody Body, CompiledPrompt? Text, CompiledChat? Chat, PromptIncludes Includes);

    /// <summary>
    /// Checks that <paramref name="version"/> of <paramref name="promptName"/> may serve as far as its includes go, before a label
    /// moves to it, a rollback copies it or an experiment starts with it: each include resolves now and no chain of them comes
    /// back to the prompt; and, for a label, no version that serves is led back to a prompt on its chain, or too deep, through the
    /// label once it is moved (<see cref="EnsureServingVersionsResolveAfterTheMoveAsync"/>). A variant is only rendered itself (includes follow labels).
    /// </summary>
    /// <param name="label">The label moving to the version; null when it is to serve as an experiment's variant.</param>
    /// <returns>The include graph's generation read before the check, for the write to expect (<see cref="PromptChanges.IncludeGeneration"/>);
    /// null when the version includes nothing and no label moves to it, so its write cannot close a cycle or change an includer's contract.</returns>
    /// <exception cref="ConflictException">A cycle (<c>reference_cycle</c>), an included version is archived, or the variables of what
    /// the version includes, or of what the includers that follow the label would include, do not join the includer's saved contract
    /// (<c>variable_conflict</c>).</exception>
    /// <exception cref="InvalidInputException">An include names no version, or the chain is too deep.</exception>
    internal async Task<long?> EnsureIncludesCanServeAsync(string promptName, PromptVersion version, string? label, CancellationToken cancellationToken)
    {
        var references = templates.ReferencesOf(version);
        // A label move is checked even for a version that includes nothing: the includers that follow the label take its variables.
        if (references.Count == 0 && label is null) return null;
        var generation = await store.ReadIncludeGenerationAsync(cancellationToken);
        var includes = await ResolveIncludesAsync(promptName, references, served: false, cancellationToken);
        if (ContractProblem(version, includes) is { } problem)
            throw new ConflictException("variable_conflict",
                $"version {version.Version} of '{promptName}' cannot serve with what it includes now: {problem} Save a version that joins them, or move the included label.", "version");
        if (label is not null)
            await EnsureServingVersionsResolveAfterTheMoveAsync(promptName, version, label, includes, cancellationToken);
        return generation;
    }

    /// <summary>
    /// Refuses moving <paramref name="label"/> of <paramref name="promptName"/> to <paramref name="version"/> when a render of a version that
    /// serves would then meet a prompt twice, include prompts more than <see cref="TemplateLimits.MaxIncludeDepth"/> deep, or include a
    /// variable its saved contract cannot join (<see cref="ContractProblem"/>; its template checks values against that contract): one whose
    /// chain reaches the label and goes on through what the version includes. A cycle through the label holds a prompt the version reaches
    /// (its <paramref name="includes"/>) before the label; a chain made too deep can start anywhere, so each version a render can reach
    /// (<see cref="ServedVersionsAsync"/>) whose includes lead to the prompt (<see cref="Reaching"/>) is resolved as it would be after the
    /// move, and refused only for what the move changes (it resolves as it stands). Other labels, and versions that serve no render, do not
    /// count: each later move of a label is checked the same way.
    /// </summary>
    private async Task EnsureServingVersionsResolveAfterTheMoveAsync(string promptName, PromptVersion version, string label, PromptIncludes includes, CancellationToken cancellationToken)
    {
        var reached = includes.Versions.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        ValueTask<IncludedPrompt?> AsItStands(PromptReference reference, CancellationToken ct) => FindIncludedAsync(reference, served: false, null, ct);
        ValueTask<IncludedPrompt?> AfterTheMove(PromptReference reference, CancellationToken ct) =>
            reference.Name == promptName && reference.Version is null && reference.Label == label
                ? ValueTask.FromResult(Included(promptName, version, reference, templates.For))
                : AsItStands(reference, ct);
        async Task<bool> JoinsAsItStandsAsync(ServedVersion served, IReadOnlyList<PromptReference> references)
        {
            try
            {
                return ContractProblem(served.Version, await PromptIncludes.ResolveAsync(served.PromptName, references, AsItStands, cancellationToken)) is null;
            }
            catch (PromptVaultException)
            {
                return false;
            }
        }
        foreach (var served in Reaching(promptName, await ServedVersionsAsync(cancellationToken)))
        {
            var references = templates.ReferencesOf(served.Version);
            if (references.Count == 0) continue;
            PromptIncludes after;
            try
            {
                after = await PromptIncludes.ResolveAsync(served.PromptName, references, AfterTheMove, cancellationToken);
            }
            catch (ConflictException e) when (e.Code == "reference_cycle" && reached.Contains(served.PromptName))
            {
                throw new ConflictException(e.Code, $"{served} would include itself through '{promptName}' {label}: {e.Message}", e.Field);
            }
            catch (InvalidInputException e) when (e.Code == "template_too_deep")
            {
                if (await ResolvesAsync(served.PromptName, references, AsItStands, cancellationToken))
                    throw new InvalidInputException(e.Code, $"{served} would include prompts too deep through '{promptName}' {label}: {e.Message}", e.Field);
                continue;
            }
            catch (PromptVaultException) when (!reached.Contains(served.PromptName))
            {
                // Not this move's doing: a cycle through the label shows from a prompt the version reaches, as above.
                continue;
            }
            // Its saved contract is what a render checks its own template with, so what the label's new version declares must join it.
            if (ContractProblem(served.Version, after) is { } problem && await JoinsAsItStandsAsync(served, references))
                throw new ConflictException("variable_conflict",
                    $"{served} includes '{promptName}' {label}, and moved to {version.Version} it would not join the includer's variables: {problem} " +
                    "Save a version of the includer that joins them first, or pin the version it includes.", "version");
        }
    }

    /// <summary>Why <paramref name="includes"/>' variables do not join <paramref name="version"/>'s saved contract (<see cref="PromptIncludes.MergeContract"/>); null when they do.</summary>
    private static string? ContractProblem(PromptVersion version, PromptIncludes includes)
    {
        try
        {
            includes.MergeContract(version.Variables);
            return null;
        }
        catch (InvalidInputException e)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// The versions of <paramref name="served"/> whose includes can lead to <paramref name="promptName"/>, directly or through other
    /// prompts: a version on a render's chain serves or is included by number by one that does, so it is among them, and a render of
    /// any other version cannot pass through the prompt's labels. Read from the includes alone, by prompt name (so a few more may pass).
    /// </summary>
    private List<ServedVersion> Reaching(string promptName, List<ServedVersion> served)
    {
        var includersOf = served.SelectMany(s => templates.ReferencesOf(s.Version).Select(r => (Included: r.Name, Includer: s.PromptName)))
            .ToLookup(link => link.Included, link => link.Includer, StringComparer.Ordinal);
        var reaching = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>([promptName]);
        while (pending.TryDequeue(out var name))
            foreach (var includer in includersOf[name])
                if (reaching.Add(includer))
                    pending.Enqueue(includer);
        return served.Where(s => reaching.Contains(s.PromptName)).ToList();
    }

    private static async Task<bool> ResolvesAsync(string promptName, IReadOnlyList<PromptReference> references,
        Func<PromptReference, CancellationToken, ValueTask<IncludedPrompt?>> find, CancellationToken cancellationToken)
    {
        try
        {
            await PromptIncludes.ResolveAsync(promptName, references, find, cancellationToken);
            return true;
        }
        catch (PromptVaultException)
        {
            return false;
        }
    }

    /// <param name="imported">What an import adds, seen as if stored (<see cref="EnsureImportCanServeAsync"/>). No stored version can
    /// include a prompt the import adds (a reference must resolve when it is saved, and prompts are never deleted), so what an added
    /// version that serves includes, resolved as the import leaves it, is all a render through it can reach.</param>
    private async Task EnsureIncludesCanServeAsync(string promptName, PromptVersion version, ImportedPrompts imported, CancellationToken cancellationToken)
    {
        var includes = await PromptIncludes.ResolveAsync(promptName, ReferencesOf(version, imported),
            (reference, ct) => FindIncludedAsync(reference, served: false, imported, ct), cancellationToken);
        if (ContractProblem(version, includes) is { } problem)
            throw new ConflictException("variable_conflict", $"what it includes does not join its variables: {problem}", "version");
    }

    /// <summary>
    /// Checks an import as the include rules check a promote, on the registry as it would be after it (the prompts it adds with
    /// those stored, or those it adds alone for a full import): each version of an added prompt that would serve (<see cref="ServingRoles"/>)
    /// passes <see cref="EnsureIncludesCanServeAsync(string, PromptVersion, string?, CancellationToken)"/>'s checks. Writes nothing.
    /// </summary>
    /// <returns>The include graph's generation read before the checks and the prompts they took the import to add, for the import to expect.</returns>
    /// <exception cref="ConflictException">The first refusal of a conflict (<c>version_archived</c>, <c>reference_cycle</c>, <c>variable_conflict</c>), naming the version and its path.</exception>
    /// <exception cref="UnprocessableException">The first refusal of an include (<c>reference_not_found</c>, <c>invalid_reference</c>, <c>template_too_deep</c>), the same way.</exception>
    internal async Task<ImportChecks> EnsureImportCanServeAsync(RegistryArchive document, bool merge, CancellationToken cancellationToken)
    {
        var generation = await store.ReadIncludeGenerationAsync(cancellationToken);
        var stored = merge
            ? await store.FindPromptNamesAsync(document[RegistryArchiveSchema.Prompts].Select(r => (string)r[RegistryArchiveSchema.Prompts.IndexOf("name")]!).ToList(),
                cancellationToken)
            : new HashSet<string>();
        var added = RegistryMerge.Plan(document, stored, new HashSet<string>()).Report.AddedPrompts.ToHashSet(StringComparer.Ordinal);
        var imported = ImportedPrompts.Of(document, added, merge);
        foreach (var prompt in imported.Prompts)
        {
            foreach (var roles in ServingRoles(imported.Labels(prompt), imported.Experiments(prompt)))
            {
                if (imported.FindVersionById(prompt, roles.Key) is not { } version) continue;
                try
                {
                    await EnsureIncludesCanServeAsync(prompt.Name, version, imported, cancellationToken);
                }
                catch (PromptVaultException refused) when (refused is ConflictException or InvalidInputException)
                {
                    var (message, path) = ($"{imported.PathOf(version)}: '{prompt.Name}' {version.Version} ({string.Join(", ", roles)}) cannot serve: {refused.Message} Nothing was imported.",
                        imported.PathOf(version));
                    throw refused is ConflictException ? new ConflictException(refused.Code, message, path) : new UnprocessableException(refused.Code, message, path);
                }
            }
        }
        return new ImportChecks(generation, added);
    }

    /// <summary>The prompts <paramref name="version"/> includes; an imported one's are parsed each time, as its template is not stored (and may never be).</summary>
    private IReadOnlyList<PromptReference> ReferencesOf(PromptVersion version, ImportedPrompts? imported) =>
        imported?.Holds(version) == true ? TemplateEngine.IncludesIn(version.Content, version.Messages) : templates.ReferencesOf(version);

    /// <summary>How a prompt's versions serve, by version id: under its labels, and as variants of its live experiments (<see cref="ExperimentLifecycle.IsLive"/>).</summary>
    private static ILookup<string, string> ServingRoles(IEnumerable<Label> labels, IEnumerable<Experiment> experiments) =>
        labels.Select(l => (l.VersionId, Role: l.Name))
            .Concat(experiments.Where(e => ExperimentLifecycle.IsLive(e.Status))
                .SelectMany(e => e.Variants.Select(v => (v.VersionId, Role: $"variant '{v.Name}' of experiment '{e.Name}'"))))
            .ToLookup(r => r.VersionId, r => r.Role, StringComparer.Ordinal);

    /// <summary>
    /// Refuses to take from <paramref name="promptName"/> what a render may include now (an archived version, a removed label): a
    /// reference to it that <paramref name="through"/> matches, held by a version that serves or that such a version includes by
    /// number (directly or through others). Reads the include graph's generation first, for the write to expect: a write that makes
    /// a version with includes serve advances it, so it and this one cannot both pass a check that missed the other.
    /// </summary>
    /// <param name="refusal">The refusal, given the includers named.</param>
    private async Task<long> EnsureNotIncludedAsync(string promptName, Func<PromptReference, bool> through, Func<string, ConflictException> refusal,
        CancellationToken cancellationToken)
    {
        var generation = await store.ReadIncludeGenerationAsync(cancellationToken);
        var includers = (await ServedVersionsAsync(cancellationToken))
            .Where(s => templates.ReferencesOf(s.Version).Any(r => r.Name == promptName && through(r)))
            .Select(s => s.ToString()).ToList();
        if (includers.Count > 0)
            throw refusal(string.Join(", ", includers.Take(MaxNamed)) + (includers.Count > MaxNamed ? $" and {includers.Count - MaxNamed} more" : ""));
        return generation;
    }

    private const int MaxNamed = 10;

    /// <summary>A version a render may reach now: one that serves (<see cref="Roles"/>), or one that a served version, <see cref="Root"/>, includes by number.</summary>
    private sealed record ServedVersion(string PromptName, PromptVersion Version, string Roles, ServedVersion? Root)
    {
        public override string ToString() => Root is { } root
            ? $"'{PromptName}' {Version.Version} (through '{root.PromptName}' {root.Version.Version}, {root.Roles})"
            : $"'{PromptName}' {Version.Version} ({Roles})";
    }

    /// <summary>Every version that serves (<see cref="ServingRoles"/>) and may include a prompt, and every version they include by number:
    /// which serve is read from the store (the prompts whose labelled versions may include one, and the live experiments), the bodies
    /// through the cache: only the includes are read of them, and the bodies never change. A version that includes nothing is left out:
    /// no render passes through it to another prompt.</summary>
    private async Task<List<ServedVersion>> ServedVersionsAsync(CancellationToken cancellationToken)
    {
        var live = await experiments.ListLiveExperimentsAsync(cancellationToken);
        var labelsOf = (await store.ListPromptsAsync(new PromptFilter(MayInclude: ""), cancellationToken))
            .ToDictionary(p => p.Prompt.Id, p => (p.Prompt.Name, p.Labels), StringComparer.Ordinal);
        foreach (var experiment in live.Where(e => !labelsOf.ContainsKey(e.PromptId)))
            labelsOf[experiment.PromptId] = (experiment.PromptName, await store.ListLabelsAsync(experiment.PromptId, cancellationToken));
        var experimentsOf = live.ToLookup(e => e.PromptId, StringComparer.Ordinal);
        var served = new List<ServedVersion>();
        foreach (var (promptId, (name, labels)) in labelsOf.OrderBy(p => p.Value.Name, StringComparer.Ordinal))
            foreach (var roles in ServingRoles(labels, experimentsOf[promptId]))
                if (await cache.FindVersionByIdAsync(promptId, roles.Key, cancellationToken) is { } version && templates.ReferencesOf(version).Count > 0)
                    served.Add(new ServedVersion(name, version, string.Join(", ", roles), null));

        var seen = served.Select(s => s.Version.Id).ToHashSet(StringComparer.Ordinal);
        var prompts = new Dictionary<string, Prompt>(StringComparer.Ordinal);
        // Grows as it goes: a pinned version's own pins are followed too. Each round reads the prompts its versions pin in one read,
        // and the pinned versions the cache does not hold in another.
        for (var round = 0; round < served.Count;)
        {
            var end = served.Count;
            var names = served.Skip(round).SelectMany(s => templates.ReferencesOf(s.Version))
                .Where(r => r.Version is not null && !prompts.ContainsKey(r.Name)).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
            if (names.Count > 0)
                foreach (var prompt in await store.FindPromptsAsync(names, cancellationToken))
                    prompts[prompt.Name] = prompt;
            var pins = served.Skip(round).SelectMany(s => templates.ReferencesOf(s.Version))
                .Where(r => r.Version is not null && prompts.ContainsKey(r.Name)).Select(r => (prompts[r.Name].Id, r.Version!.Value)).ToHashSet();
            var pinnedVersions = await cache.FindVersionsAsync(pins, cancellationToken);
            for (var i = round; i < end; i++)
                foreach (var reference in templates.ReferencesOf(served[i].Version))
                    if (reference.Version is { } number && prompts.GetValueOrDefault(reference.Name) is { } included
                        && pinnedVersions.GetValueOrDefault((included.Id, number)) is { } pinned && seen.Add(pinned.Id))
                        served.Add(new ServedVersion(included.Name, pinned, "", served[i].Root ?? served[i]));
            round = end;
        }
        return served;
    }

    /// <param name="served">Read through the <see cref="RegistryCache"/> (a render); otherwise from the store (a write's decision).</param>
    private ValueTask<PromptIncludes> ResolveIncludesAsync(string includer, IReadOnlyList<PromptReference> references, bool served, CancellationToken cancellationToken) =>
        references.Count == 0
            ? ValueTask.FromResult(PromptIncludes.None)
            : PromptIncludes.ResolveAsync(includer, references, (reference, ct) => FindIncludedAsync(reference, served, null, ct), cancellationToken);

    /// <param name="imported">What an import adds, seen as if stored: its prompts first, then (unless it is a full import) the store's.</param>
    private async ValueTask<IncludedPrompt?> FindIncludedAsync(PromptReference reference, bool served, ImportedPrompts? imported, CancellationToken cancellationToken)
    {
        if (imported?.Find(reference.Name) is { } added)
            return Included(added.Name, reference.Version is { } pinned ? imported.FindVersion(added, pinned) : imported.FindLabelledVersion(added, reference.Label!), reference,
                version => templates.Compile(version.Content, version.Variables));
        if (imported is { Alone: true }) return null;
        var prompt = served ? await cache.FindPromptAsync(reference.Name, cancellationToken) : await store.FindPromptAsync(reference.Name, cancellationToken);
        if (prompt is null) return null;
        var version = reference.Version is { } number
            ? await (served ? cache.FindVersionAsync(prompt.Id, number, cancellationToken) : new(store.FindVersionAsync(prompt.Id, number, cancellationToken)))
            : await (served ? cache.FindLabelledVersionAsync(prompt.Id, reference.Label!, cancellationToken) : new(store.FindLabelledVersionAsync(prompt.Id, reference.Label!, cancellationToken)));
        return Included(prompt.Name, version, reference, templates.For);
    }

    /// <param name="compile">Its compiled template: cached for a stored version, not for one an import has yet to store.</param>
    private static IncludedPrompt? Included(string promptName, PromptVersion? version, PromptReference reference, Func<PromptVersion, CompiledPrompt> compile)
    {
        if (version is null) return null;
        Serving.EnsureServable(promptName, version.Version.ToString(), version.Status, includedAs: reference.ToString());
        if (version.Messages is not null)
            throw new InvalidInputException("invalid_reference",
                $"content includes {reference}, but '{promptName}' is a chat prompt: only text prompts can be included (their text goes where the tag stands).", "content");
        return new IncludedPrompt(new ReferencedVersion(promptName, version.Version.ToString(), version.Id), compile(version));
    }

    /// <exception cref="NotFoundException">A prompt name was given and no such prompt exists.</exception>
    /// <exception cref="InvalidInputException">The time window ends before it starts, or the actor or action holds U+0000.</exception>
    public async Task<AuditListResponse> ListAuditAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        RefuseNulInFilter(query.Actor, "actor");
        RefuseNulInFilter(query.Action, "action");
        if (query.From > query.To)
            throw new InvalidInputException("invalid_time_range", $"from ({query.From:O}) must not be after to ({query.To:O}).", "from");
        // An unknown prompt is a 404, not an empty log that looks like "nothing happened".
        if (query.PromptName is { } promptName)
            await RequireFilterPromptAsync(promptName, cancellationToken);
        var entries = await store.ListAuditAsync(query, cancellationToken);
        return new AuditListResponse(entries, entries.Total);
    }

    /// <summary>
    /// A filter (or a version asked for) holding U+0000 is refused as a body's text is: nothing stored holds it, and PostgreSQL's text cannot even
    /// be compared with it (its query failed, a 500, where SQLite's matched nothing).
    /// </summary>
    private static void RefuseNulInFilter(string? filter, string field)
    {
        if (NulRefusal.HoldsNul(filter))
            throw new InvalidInputException("invalid_text", InvalidJsonTextException.Describe($"'{field}'", TextFault.Nul) + ".", field);
    }

    private VersionBody ValidateVersionBody(PromptType type, string? content, IReadOnlyList<PromptMessage>? messages,
        IReadOnlyList<VariableDefinition> variables, PromptMetadata metadata) =>
        VersionBodyRules.Validate(templates, type, content, messages, variables, metadata);

    /// <param name="evaluationId">The passed run that allowed the promote, when the prompt requires tests: the audit keeps it.</param>
    private static PromptChanges Promotion(Prompt prompt, PromptVersion target, PromptVersion? previous, DateTimeOffset now, string actor, string? evaluationId)
    {
        var (statusChanges, labelChange) = Promote(prompt, target, previous, now, actor);
        var after = new Dictionary<string, string?> { ["production"] = target.Version.ToString() };
        if (evaluationId is not null) after["evaluationId"] = evaluationId;
        return new PromptChanges
        {
            StatusChanges = statusChanges,
            LabelChanges = [labelChange],
            PassedRun = evaluationId is null ? null : new PassedRun(target.Id, evaluationId),
            Audit = [Entry(now, actor, AuditActions.Promoted, prompt.Name, target.Version.ToString(),
                new() { ["production"] = previous?.Version.ToString() }, after)],
        };
    }

    /// <summary>
    /// The <c>requireTests</c> gate (SPEC §10): the id of the version's latest evaluation run, which must have run the version's
    /// cases as they are now and passed; null when the prompt does not require tests.
    /// </summary>
    /// <exception cref="ConflictException">The version has no run, or its cases changed since its latest run started (<c>tests_required</c>),
    /// or its latest run did not pass (<c>tests_failed</c>, naming the run).</exception>
    private async Task<string?> RequirePassedRunAsync(Prompt prompt, PromptVersion target, CancellationToken cancellationToken)
    {
        // Null only where a registry is built without evaluations (some store tests); the server always has them.
        if (evaluations is null || !prompt.RequireTests)
            return null;
        var latest = (await evaluations.ListRunsAsync(target.Id, PageRequest.First, cancellationToken)).FirstOrDefault()
            ?? throw new ConflictException("tests_required",
                $"prompt '{prompt.Name}' requires tests: version {target.Version} has no evaluation run; run its tests (POST .../versions/{target.Version}/evaluate) first.", "version");
        // A run that ran other cases (a PUT replaced them after the run started, even if it was stored later) proves nothing about these.
        if (!TestCaseRules.Ran(latest, await evaluations.FindTestsAsync(target.Id, cancellationToken)))
            throw new ConflictException("tests_required",
                $"prompt '{prompt.Name}' requires tests: " + (latest.TestsDigest is null
                    ? $"the latest evaluation run {latest.Id} of version {target.Version} was stored before runs recorded the cases they ran"
                    : $"the test cases of version {target.Version} changed since its latest evaluation run {latest.Id} started") +
                $"; run them again (POST .../versions/{target.Version}/evaluate).", "version");
        if (latest.Status != EvaluationStatus.Passed)
            throw new ConflictException("tests_failed",
                $"prompt '{prompt.Name}' requires tests: the latest evaluation run {latest.Id} of version {target.Version} {Names.Of(latest.Status)}; fix it and run the tests again.", "version");
        return latest.Id;
    }

    /// <summary>The writes of a promote: the target becomes production, the version it replaces deprecated, and the label moves.</summary>
    private static (List<StatusChange> StatusChanges, LabelChange Label) Promote(Prompt prompt, PromptVersion target, PromptVersion? previous, DateTimeOffset now, string actor)
    {
        var statusChanges = new List<StatusChange>();
        if (target.Status != VersionStatus.Production)
            statusChanges.Add(StatusChange.Of(target, VersionStatus.Production));
        if (previous is { Status: VersionStatus.Production })
            statusChanges.Add(StatusChange.Of(previous, VersionStatus.Deprecated));
        return (statusChanges, new LabelChange(prompt.Id, Label.Production, previous?.Id, target.Id, now, actor));
    }

    private static PromptVersion NextVersion(Prompt prompt, PromptVersion latest, VersionBump bump, VersionBody body, string changeDescription,
        string actor, DateTimeOffset now) =>
        new(Ids.New(now), prompt.Id, latest.Sequence + 1, latest.Version.Bump(bump), body.Content, body.Variables, body.Metadata,
            changeDescription, actor, now, VersionStatus.Draft) { Messages = body.Messages };

    internal async Task<Prompt> RequirePromptAsync(string name, CancellationToken cancellationToken)
    {
        PromptRules.ValidatePromptName(name);
        return await store.FindPromptAsync(name, cancellationToken) ?? throw PromptNotFound(name);
    }

    /// <summary>The prompt a list is filtered by (<c>?prompt=</c>): a bad name is refused naming that parameter, not a route's <c>name</c>.</summary>
    internal Task<Prompt> RequireFilterPromptAsync(string name, CancellationToken cancellationToken)
    {
        PromptRules.ValidatePromptName(name, "prompt");
        return RequirePromptAsync(name, cancellationToken);
    }

    /// <summary>The same from the <see cref="RegistryCache"/>: for serving, not for deciding a write.</summary>
    internal async ValueTask<Prompt> RequireServedPromptAsync(string name, CancellationToken cancellationToken)
    {
        PromptRules.ValidatePromptName(name);
        return await cache.FindPromptAsync(name, cancellationToken) ?? throw PromptNotFound(name);
    }

    private static NotFoundException PromptNotFound(string name) => new("prompt_not_found", $"prompt '{PromptRules.Echo(name)}' does not exist.");

    private Task SaveAsync(PromptChanges prompt, CancellationToken cancellationToken)
    {
        var changed = prompt.NewPrompt ?? prompt.TouchedPrompt ?? prompt.UpdatedPrompt?.To;
        return changes.AfterAsync(store.SaveAsync(prompt, cancellationToken), RegistryChangeKind.Prompt,
            changed?.Id ?? prompt.LabelChanges.FirstOrDefault()?.PromptId, changed?.Name);
    }

    private async Task<PromptVersion> RequireLatestAsync(Prompt prompt, CancellationToken cancellationToken) =>
        await store.FindLatestVersionAsync(prompt.Id, cancellationToken)
        ?? throw new NotFoundException("version_not_found", $"prompt '{prompt.Name}' has no versions.");

    /// <summary>Finds a version by number (<c>1.0.2</c>), by id, or <c>latest</c>, in the store.</summary>
    internal Task<PromptVersion> RequireVersionAsync(Prompt prompt, string versionRef, CancellationToken cancellationToken) =>
        RequireVersionAsync(prompt, versionRef, served: false, cancellationToken);

    /// <param name="served">Read through the <see cref="RegistryCache"/>: for serving, not for deciding a write.</param>
    private async Task<PromptVersion> RequireVersionAsync(Prompt prompt, string versionRef, bool served, CancellationToken cancellationToken)
    {
        RefuseNulInFilter(versionRef, "version");
        var found = versionRef == Serving.LatestVersion
                ? await (served ? cache.FindLatestVersionAsync(prompt.Id, cancellationToken) : new(store.FindLatestVersionAsync(prompt.Id, cancellationToken)))
            : SemanticVersion.TryParse(versionRef, out var number)
                ? await (served ? cache.FindVersionAsync(prompt.Id, number, cancellationToken) : new(store.FindVersionAsync(prompt.Id, number, cancellationToken)))
            : await (served ? cache.FindVersionByIdAsync(prompt.Id, versionRef, cancellationToken) : new(store.FindVersionByIdAsync(prompt.Id, versionRef, cancellationToken)));
        if (found is not null) return found;
        // A version asked for by one of the prompt's label names (test NAME --version production) says where the label is.
        var label = (await store.ListLabelsAsync(prompt.Id, cancellationToken)).FirstOrDefault(l => l.Name == versionRef);
        throw Serving.VersionNotFound(prompt.Name, versionRef, label?.Version.ToString());
    }

    private static Task<T> WithRetryAsync<T>(Func<Task<T>> write) => OptimisticWrites.RetryAsync(MaxWriteAttempts, write);

    private static AuditEntry VersionCreatedEntry(DateTimeOffset now, string actor, string promptName, PromptVersion version) =>
        Entry(now, actor, AuditActions.VersionCreated, promptName, version.Version.ToString(), null,
            new() { ["version"] = version.Version.ToString(), ["versionId"] = version.Id, ["changeDescription"] = version.ChangeDescription });

    private static AuditEntry Entry(DateTimeOffset now, string actor, string action, string? promptName, string? subject,
        Dictionary<string, string?>? before, Dictionary<string, string?>? after) =>
        new(0, now, actor, action, promptName, subject, before, after);

    private static PromptResponse ToResponse(Prompt prompt, PromptVersion latest, IReadOnlyList<Label> labels)
    {
        var numbers = labels.OrderBy(l => l.Name, StringComparer.Ordinal).ToDictionary(l => l.Name, l => l.Version.ToString(), StringComparer.Ordinal);
        return new PromptResponse(prompt.Id, prompt.Name, prompt.Description, prompt.Type, prompt.Tags, prompt.Category,
            prompt.CreatedAt, prompt.CreatedBy, prompt.UpdatedAt, prompt.UpdatedBy, numbers, ToResponse(prompt.Name, latest, labels),
            prompt.RequireApproval, prompt.RequireTests);
    }

    internal static VersionResponse ToResponse(string promptName, PromptVersion version, IReadOnlyList<Label> labels) =>
        new(version.Id, promptName, version.Version.ToString(), version.Content, version.Variables, version.Metadata,
            version.ChangeDescription, version.CreatedBy, version.CreatedAt, version.Status,
            labels.Where(l => l.VersionId == version.Id).Select(l => l.Name).Order(StringComparer.Ordinal).ToList(),
            version.Approval?.By, version.Approval?.At) { Messages = version.Messages, DeclaredVariables = version.Declared };
}
