using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using PromptVault.Core.Analysis;
using PromptVault.Core.Audit;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Experiments;

/// <summary>
/// The experiment use cases (SPEC §3): create, the lifecycle, assignment, resolve with exposures, results, and
/// auto-completion. Statistics come from the pure <see cref="ExperimentAnalyzer"/>; this class only reads, decides
/// with it, and writes.
/// </summary>
public sealed class ExperimentService(
    IPromptStore prompts,
    IExperimentStore experiments,
    IMetricStore metrics,
    PromptRegistry registry,
    RegistryCache cache,
    RegistryChangeFeed changes,
    TimeProvider time,
    ILogger<ExperimentService> logger)
{
    /// <summary>The actor of changes the system makes by itself (auto-completion, guardrails).</summary>
    public const string SystemActor = Core.Auth.ApiKeyNames.SystemActor;

    private const int MaxWriteAttempts = 5;

    private readonly CoalescedRuns looks = new();

    public async Task<ExperimentResponse> CreateAsync(CreateExperimentRequest request, string actor, CancellationToken cancellationToken = default)
    {
        ExperimentRules.Validate(request);
        var prompt = await registry.RequirePromptAsync(request.Prompt!, cancellationToken);
        var now = time.GetUtcNow();
        var variants = new List<Variant>();
        PromptVersion? served = null;
        for (var i = 0; i < request.Variants!.Count; i++)
        {
            var variant = request.Variants[i];
            var version = await FindVariantVersionAsync(prompt, variant.VersionId!, cancellationToken)
                ?? throw new InvalidInputException("invalid_experiment",
                    $"variants[{i}].versionId '{PromptRules.Shorten(variant.VersionId!)}' is not a version of prompt '{prompt.Name}'.", $"variants[{i}].versionId");
            if (version.Status == VersionStatus.Archived)
                throw new InvalidInputException("invalid_experiment",
                    $"variants[{i}].versionId is version {version.Version}, which is archived and can never serve traffic.", $"variants[{i}].versionId");
            variants.Add(new Variant(Ids.New(now), variant.Name!.Trim(), version.Id, variant.Weight!.Value));
            served = version;
        }
        if (request.PromoteWinner == true && ExperimentRules.IsAaTest(variants.ConvertAll(v => (string?)v.VersionId)))
            throw new InvalidInputException("invalid_experiment",
                $"promoteWinner is true, but every variant serves version {served!.Version}: an A/A test, whose winner can only be a false positive, "
                + "so it has nothing to promote; set promoteWinner to false.", "promoteWinner");

        var experiment = new Experiment(
            Ids.New(now), prompt.Id, prompt.Name, request.Name!.Trim(), request.Description ?? "", variants,
            request.TargetMetric ?? ExperimentRules.DefaultTargetMetric,
            request.MinimumSampleSize ?? ExperimentRules.DefaultMinimumSampleSize,
            request.ConfidenceLevel ?? ExperimentRules.DefaultConfidenceLevel,
            request.MinimumDetectableEffect ?? ExperimentRules.DefaultMinimumDetectableEffect,
            request.Power ?? ExperimentRules.DefaultPower,
            (request.Guardrails ?? []).Select(g => new Guardrail(g.Metric!.Value, g.Threshold!.Value)).ToList(),
            request.PromoteWinner ?? false,
            ExperimentStatus.Draft, NewHashSeed(), null, null, now, actor, now, null, null);

        await changes.AfterAsync(experiments.CreateExperimentAsync(experiment,
            [Entry(now, actor, AuditActions.ExperimentCreated, experiment, null, new()
            {
                ["status"] = Names.Of(experiment.Status),
                ["targetMetric"] = Names.Of(experiment.TargetMetric),
                ["variants"] = string.Join(", ", variants.Select(v => $"{v.Name} {v.Weight}%")),
            })], cancellationToken), RegistryChangeKind.Experiment, prompt.Id, prompt.Name);
        return await ToResponseAsync(experiment, cancellationToken);
    }

    public async Task<ExperimentListResponse> ListAsync(string? promptName, PageRequest page, CancellationToken cancellationToken = default)
    {
        if (promptName is not null)
            await registry.RequireFilterPromptAsync(promptName, cancellationToken);
        var list = await experiments.ListExperimentsAsync(promptName, page, cancellationToken);
        // One read for the version numbers of every variant listed, not one per experiment.
        var numbers = await VersionNumbersAsync(list, cancellationToken);
        return new ExperimentListResponse(list.Select(e => ToResponse(e, numbers)).ToList(), list.Total);
    }

    public async Task<ExperimentResponse> GetAsync(string id, CancellationToken cancellationToken = default) =>
        await ToResponseAsync(await RequireAsync(id, cancellationToken), cancellationToken);

    public Task<ExperimentResponse> StartAsync(string id, string actor, CancellationToken cancellationToken = default) =>
        MoveAsync(id, ExperimentStatus.Running, actor, null, null, cancellationToken);

    public Task<ExperimentResponse> PauseAsync(string id, string actor, CancellationToken cancellationToken = default) =>
        MoveAsync(id, ExperimentStatus.Paused, actor, null, null, cancellationToken);

    public Task<ExperimentResponse> CancelAsync(string id, string actor, CancellationToken cancellationToken = default) =>
        MoveAsync(id, ExperimentStatus.Cancelled, actor, null, null, cancellationToken);

    /// <summary>Completes the experiment; the winner is what the sequential test supports now (none if nothing is significant).</summary>
    public Task<ExperimentResponse> CompleteAsync(string id, string actor, CancellationToken cancellationToken = default) =>
        MoveAsync(id, ExperimentStatus.Completed, actor, null, null, cancellationToken);

    public async Task<ExperimentResults> ResultsAsync(string id, CancellationToken cancellationToken = default) =>
        await AnalyzeAsync(await RequireAsync(id, cancellationToken), cancellationToken);

    /// <summary>The experiment and its results from one lookup of it (the dashboard's page, which shows both every poll).</summary>
    public async Task<(ExperimentResponse Experiment, ExperimentResults Results)> GetWithResultsAsync(string id, CancellationToken cancellationToken = default)
    {
        var experiment = await RequireAsync(id, cancellationToken);
        return (await ToResponseAsync(experiment, cancellationToken), await AnalyzeAsync(experiment, cancellationToken));
    }

    public async Task<AssignmentResponse> AssignAsync(string id, string? unitId, CancellationToken cancellationToken = default)
    {
        Serving.ValidateUnitId(unitId);
        var experiment = await RequireAsync(id, cancellationToken);
        var variant = Assignment.VariantFor(experiment, unitId);
        return new AssignmentResponse(experiment.Id, unitId, Assignment.Bucket(experiment.HashSeed, unitId), variant.Id, variant.Name, variant.VersionId);
    }

    /// <summary>
    /// Resolve and render (SPEC §3): with a unit id, and neither a version nor a label other than production named, the
    /// prompt's running experiment serves the unit's variant and records the exposure; otherwise the label's version.
    /// </summary>
    public async Task<RenderResponse> RenderAsync(string name, RenderRequest request, CancellationToken cancellationToken = default)
    {
        using var span = Telemetry.Start(Telemetry.RenderSpan, name);
        return Telemetry.Rendered(await ServeAsync(name, request, cancellationToken), request);
    }

    /// <summary>
    /// Renders <paramref name="version"/> of <paramref name="prompt"/>, both found by the caller (MCP's prompts/get: the production
    /// version it described), with no second lookup, counted as a render served by its label.
    /// </summary>
    public async Task<RenderResponse> RenderFoundAsync(Prompt prompt, PromptVersion version, RenderRequest request, CancellationToken cancellationToken = default)
    {
        using var span = Telemetry.Start(Telemetry.RenderSpan, prompt.Name);
        return Telemetry.Rendered(await registry.RenderAsync(prompt, version, request, cancellationToken: cancellationToken), request);
    }

    // A ValueTask: served from the cache, it completes at once and allocates nothing beyond what the render does.
    private async ValueTask<RenderResponse> ServeAsync(string name, RenderRequest request, CancellationToken cancellationToken)
    {
        if (!Serving.ByExperimentValidated(request.UnitId, request.Version, request.Label))
            return await registry.RenderAsync(name, request, cancellationToken);

        var prompt = await registry.RequireServedPromptAsync(name, cancellationToken);
        var running = await cache.FindRunningExperimentAsync(prompt.Id, cancellationToken);
        if (running is null)
            return await registry.RenderAsync(prompt, request, cancellationToken);

        var variant = Assignment.VariantFor(running, request.UnitId);
        var version = await cache.FindVersionByIdAsync(prompt.Id, variant.VersionId, cancellationToken)
            ?? throw new NotFoundException("version_not_found", $"variant '{variant.Name}' of experiment '{running.Name}' names a version that no longer exists.");
        var response = await registry.RenderAsync(prompt, version, request, running.Id, variant.Id, cancellationToken);
        // A render is a read: its exposure is queued, not awaited (docs/reliability.md#exposures-of-renders).
        Telemetry.ExposureQueued(prompt.Name, experiments.QueueExposure(new Exposure(running.Id, variant.Id, request.UnitId, time.GetUtcNow())));
        return response;
    }

    /// <summary>
    /// Applies auto-completion to a running experiment (SPEC §3): completes it when the sequential test finds a winner
    /// after the minimum sample size, pauses it when a guardrail is breached significantly. Called after metrics arrive.
    /// </summary>
    /// <remarks>
    /// Returns after a look that started after the call, so it saw the caller's events. An experiment's looks run one at a
    /// time and calls made during one share the next (<see cref="CoalescedRuns"/>): each look reads the results and writes
    /// the sequential state, and under load a look per metric batch took a third of the server's ingest.
    /// </remarks>
    /// <param name="cancellationToken">Stops the wait; a look under way still ends, as other callers may share it.</param>
    public Task EvaluateAsync(string id, CancellationToken cancellationToken = default) =>
        looks.RunAsync(id, experimentId => LookAsync(experimentId, CancellationToken.None), cancellationToken);

    private async Task LookAsync(string id, CancellationToken cancellationToken)
    {
        var experiment = await experiments.FindExperimentAsync(id, cancellationToken);
        if (experiment is not { Status: ExperimentStatus.Running })
            return;
        var results = await AnalyzeAsync(experiment, cancellationToken);
        // This look is one the decision may rest on: what it saw becomes part of the running minima (reads never write).
        await experiments.SaveSequentialStateAsync(id, results.State ?? SequentialState.Empty, HistoryOf(results, time.GetUtcNow()), cancellationToken);
        var decision = results.Decision;
        var target = decision.Action switch
        {
            DecisionAction.Complete => ExperimentStatus.Completed,
            DecisionAction.Pause => ExperimentStatus.Paused,
            _ => (ExperimentStatus?)null,
        };
        if (target is null)
            return;
        try
        {
            await MoveAsync(id, target.Value, SystemActor, decision.Reason, decision.Winner, cancellationToken, decidedWhile: ExperimentStatus.Running);
            Telemetry.DecisionApplied(experiment.PromptName, decision.Action);
            if (target == ExperimentStatus.Completed) Log.ExperimentAutoCompleted(logger, id, decision.Winner, decision.Reason);
            else Log.ExperimentGuardrailPaused(logger, id, decision.Reason);
        }
        catch (ConflictException moved) when (moved.Code == "invalid_experiment_transition")
        {
            // Someone else moved it first (paused, completed or cancelled it); their decision stands.
        }
    }

    /// <param name="winner">The winner already decided (auto-completion); null to decide it from the results when completing.</param>
    /// <param name="decidedWhile">The status a decision made by the system was taken in (a look's, on a running experiment): it
    /// applies only while the experiment is still in it, so an operator's pause that lands during the look stands.</param>
    private async Task<ExperimentResponse> MoveAsync(string id, ExperimentStatus to, string actor, string? reason, string? winner, CancellationToken cancellationToken,
        ExperimentStatus? decidedWhile = null)
    {
        // A lost race (its status changed since we read it) reads again, and the lifecycle check decides.
        var moved = await OptimisticWrites.RetryAsync(MaxWriteAttempts, async () =>
        {
            var experiment = await RequireAsync(id, cancellationToken);
            if (decidedWhile is { } decided && experiment.Status != decided)
                throw new ConflictException("invalid_experiment_transition",
                    $"experiment '{experiment.Name}' is {Names.Of(experiment.Status)} now, no longer {Names.Of(decided)} as when the decision was taken.", "status");
            // A repeat of the move already made (pause a paused one) changes nothing and answers as the first did, as a
            // repeated version status or label move does: no write, no audit entry, no webhook.
            if (experiment.Status == to)
                return experiment;
            ExperimentLifecycle.EnsureCanMove(experiment, to);
            return await ApplyMoveAsync(experiment, to, actor, reason, winner, cancellationToken);
        });
        return await ToResponseAsync(moved, cancellationToken);
    }

    private async Task<Experiment> ApplyMoveAsync(Experiment experiment, ExperimentStatus to, string actor, string? reason, string? winner, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var moved = experiment with { Status = to, StatusReason = reason, UpdatedAt = now };
        string action;
        var after = new Dictionary<string, string?> { ["status"] = Names.Of(to) };
        long? includeGeneration = null;
        PromptChanges? promotion = null;
        switch (to)
        {
            case ExperimentStatus.Running:
                includeGeneration = await EnsureVersionsCanServeAsync(experiment, cancellationToken);
                moved = moved with { StartedAt = experiment.StartedAt ?? now };
                action = AuditActions.ExperimentStarted;
                break;
            case ExperimentStatus.Paused:
                action = AuditActions.ExperimentPaused;
                break;
            case ExperimentStatus.Completed:
                winner ??= (await AnalyzeAsync(experiment, cancellationToken)).Winner;
                moved = moved with { Winner = winner, EndedAt = now };
                after["winner"] = experiment.FindVariant(winner ?? "")?.Name;
                if (WinnerToPromote(moved) is { } promoted)
                {
                    try
                    {
                        // Written with the completion, so the experiment completes only with its winner promoted (null: in production already).
                        promotion = await registry.PromotionAsync(moved.PromptName, promoted.VersionId, now, actor, cancellationToken);
                    }
                    catch (PromptVaultException refused)
                    {
                        // The experiment still completes; a promote's gate (approval, tests, an include cycle) only keeps its winner out of production.
                        moved = moved with { PromotionRefused = refused.Message };
                        after["promotionRefused"] = refused.Message;
                    }
                }
                action = AuditActions.ExperimentCompleted;
                break;
            default:
                moved = moved with { EndedAt = now };
                action = AuditActions.ExperimentCancelled;
                break;
        }
        if (reason is not null)
            after["reason"] = reason;

        // With a promote, the prompt's labels and versions change too: the Prompt kind invalidates those and the running experiment.
        await changes.AfterAsync(experiments.UpdateExperimentAsync(moved, experiment.Status,
            [Entry(now, actor, action, experiment, new() { ["status"] = Names.Of(experiment.Status) }, after)], includeGeneration, promotion, cancellationToken),
            promotion is null ? RegistryChangeKind.Experiment : RegistryChangeKind.Prompt, experiment.PromptId, experiment.PromptName);
        return moved;
    }

    /// <summary>The variant <c>promoteWinner</c> deploys: the winner, the control included (it need not be the production
    /// version; when it is, the promote changes nothing). Null when none is due.</summary>
    private static Variant? WinnerToPromote(Experiment completed) =>
        completed is { Status: ExperimentStatus.Completed, PromoteWinner: true, Winner: { } winnerId } ? completed.FindVariant(winnerId) : null;

    /// <summary>Checks every variant's version can serve, as a labelled one must: not archived, and its includes resolve and close no cycle.</summary>
    /// <returns>The include graph's generation the check read, for the start to expect; null when no variant includes anything.</returns>
    private async Task<long?> EnsureVersionsCanServeAsync(Experiment experiment, CancellationToken cancellationToken)
    {
        long? includeGeneration = null;
        foreach (var variant in experiment.Variants)
        {
            var version = await prompts.FindVersionByIdAsync(experiment.PromptId, variant.VersionId, cancellationToken);
            if (version is null || version.Status == VersionStatus.Archived)
                throw new ConflictException("version_archived",
                    $"variant '{variant.Name}' serves a version that is archived or gone; an experiment can only start when every variant can serve.", "variants");
            var generation = await registry.EnsureIncludesCanServeAsync(experiment.PromptName, version, label: null, cancellationToken);
            // The first one read: the graph the whole check saw must still be the one the start lands on.
            includeGeneration ??= generation;
        }
        return includeGeneration;
    }

    /// <summary>What a look adds to the chart of the interval narrowing: each non-control variant's target-metric difference from control and its always-valid interval.</summary>
    private static List<SequentialHistoryPoint> HistoryOf(ExperimentResults results, DateTimeOffset at)
    {
        var metric = Names.Of(results.TargetMetric);
        var points = new List<SequentialHistoryPoint>();
        foreach (var variant in results.Variants.Where(v => !v.IsControl))
            if (variant.Metrics.GetValueOrDefault(metric) is { Difference: { } estimate, SequentialCi: [var low, var high] })
                points.Add(new SequentialHistoryPoint(variant.VariantId, metric, at, estimate, low, high));
        return points;
    }

    /// <summary>The experiment's stored history of looks (the interval narrowing), oldest first.</summary>
    /// <exception cref="NotFoundException">No such experiment.</exception>
    public async Task<IReadOnlyList<SequentialHistoryPoint>> HistoryAsync(string id, CancellationToken cancellationToken = default)
    {
        await RequireAsync(id, cancellationToken);
        return await experiments.ReadSequentialHistoryAsync(id, cancellationToken);
    }

    /// <summary>The analysis by unit (SPEC §3), continuing the sequential tests' stored state; its State is that state after this look.</summary>
    private async Task<ExperimentResults> AnalyzeAsync(Experiment experiment, CancellationToken cancellationToken)
    {
        var exposures = await experiments.CountExposuresAsync(experiment.Id, cancellationToken);
        var stats = await metrics.ReadVariantUnitStatsAsync(experiment.Id, cancellationToken);
        var previous = await experiments.ReadSequentialStateAsync(experiment.Id, cancellationToken);
        return ExperimentAnalyzer.Analyze(experiment, exposures, stats, previous);
    }

    private async Task<Experiment> RequireAsync(string id, CancellationToken cancellationToken) =>
        await experiments.FindExperimentAsync(id, cancellationToken)
        ?? throw new NotFoundException("experiment_not_found", $"experiment '{PromptRules.Echo(id)}' does not exist.");

    private async Task<PromptVersion?> FindVariantVersionAsync(Prompt prompt, string versionRef, CancellationToken cancellationToken)
    {
        try
        {
            return await registry.RequireVersionAsync(prompt, versionRef.Trim(), cancellationToken);
        }
        catch (NotFoundException)
        {
            return null;
        }
    }

    private async Task<ExperimentResponse> ToResponseAsync(Experiment experiment, CancellationToken cancellationToken) =>
        ToResponse(experiment, await VersionNumbersAsync([experiment], cancellationToken));

    private Task<IReadOnlyDictionary<string, Versioning.SemanticVersion>> VersionNumbersAsync(IReadOnlyList<Experiment> list, CancellationToken cancellationToken) =>
        prompts.FindVersionNumbersAsync(list.SelectMany(e => e.Variants).Select(v => v.VersionId).ToHashSet(), cancellationToken);

    private static ExperimentResponse ToResponse(Experiment experiment, IReadOnlyDictionary<string, Versioning.SemanticVersion> numbers)
    {
        var variants = experiment.Variants
            .Select(v => new VariantResponse(v.Id, v.Name, v.VersionId, numbers.TryGetValue(v.VersionId, out var number) ? number.ToString() : "", v.Weight, v == experiment.Control))
            .ToList();
        return new ExperimentResponse(experiment.Id, experiment.Name, experiment.Description, experiment.PromptName, experiment.Status,
            experiment.Winner, experiment.StatusReason, variants, experiment.TargetMetric, experiment.MinimumSampleSize,
            experiment.ConfidenceLevel, experiment.MinimumDetectableEffect, experiment.Power, experiment.Guardrails,
            experiment.PromoteWinner, experiment.HashSeed.ToString("x16", CultureInfo.InvariantCulture), Assignment.AlgorithmVersion,
            experiment.CreatedAt, experiment.CreatedBy, experiment.UpdatedAt, experiment.StartedAt, experiment.EndedAt, experiment.PromotionRefused);
    }

    private static ulong NewHashSeed() => BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));

    private static AuditEntry Entry(DateTimeOffset now, string actor, string action, Experiment experiment,
        Dictionary<string, string?>? before, Dictionary<string, string?> after)
    {
        after["experimentId"] = experiment.Id;
        return new AuditEntry(0, now, actor, action, experiment.PromptName, experiment.Name, before, after);
    }
}
