using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Testing;

/// <summary>
/// What every <see cref="IExperimentStore"/> must do. Each provider inherits this suite and supplies a new, empty, migrated
/// store; a provider difference is an override with a comment.
/// </summary>
public abstract class ExperimentStoreContractTests
{
    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A new, empty store; the prompt store holds the experiments' prompts and the audit log (both may be one object).</summary>
    protected abstract Task<(IPromptStore Prompts, IExperimentStore Experiments)> CreateStoreAsync();

    [Fact]
    public async Task CreateExperimentAsync_EveryFieldSet_RoundTrips()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "support/reply");
        var local = new DateTimeOffset(2025, 6, 7, 8, 9, 10, TimeSpan.FromHours(-7)).AddTicks(9_876_543);
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Completed) with
        {
            TargetMetric = MetricName.AvgLatencyMs,
            MinimumSampleSize = 12_345,
            ConfidenceLevel = 0.99,
            MinimumDetectableEffect = 0.015,
            Power = 0.9,
            PromoteWinner = false,
            Winner = "variant-2",
            StatusReason = "shorter beat control on avgLatencyMs (p = 0.0004) ✓",
            UpdatedAt = Now.AddDays(3),
            StartedAt = local,
            EndedAt = Now.AddDays(3),
        };

        await store.CreateExperimentAsync(experiment, [], Cancel);

        var found = await store.FindExperimentAsync(experiment.Id, Cancel);
        Assert.Equal(Json(experiment with { StartedAt = local.ToUniversalTime() }), Json(found));
        Assert.Equal(local, found!.StartedAt); // the same instant, read back in UTC
        Assert.Equal(ulong.MaxValue - 42, found.HashSeed);
        Assert.Equal([33.33m, 33.33m, 33.34m], found.Variants.Select(v => v.Weight));
    }

    [Theory]
    [InlineData(ExperimentStatus.Draft, false)]
    [InlineData(ExperimentStatus.Running, false)]
    [InlineData(ExperimentStatus.Paused, false)]
    [InlineData(ExperimentStatus.Completed, true)]
    [InlineData(ExperimentStatus.Cancelled, true)]
    public async Task SaveAsync_ArchivingAVariantsVersion_OnlyOnceItsExperimentIsFinished(ExperimentStatus status, bool archives)
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "served");
        await store.CreateExperimentAsync(Experiment(prompt, v1, v2, status: status), [], Cancel);

        var error = await Record.ExceptionAsync(() => prompts.SaveAsync(new PromptChanges { StatusChanges = [StatusChange.Of(v2, VersionStatus.Archived)] }, Cancel));

        if (archives) Assert.Null(error);
        else Assert.IsType<ConcurrentWriteException>(error);
        Assert.Equal(archives ? VersionStatus.Archived : VersionStatus.Draft, (await prompts.FindVersionByIdAsync(prompt.Id, v2.Id, Cancel))!.Status);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData((ulong)long.MaxValue)]
    [InlineData((ulong)long.MaxValue + 1)]
    [InlineData(ulong.MaxValue)]
    public async Task CreateExperimentAsync_AnySeedAndNoOptionalFields_RoundTrips(ulong seed)
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "seeded");
        var experiment = Experiment(prompt, v1, v2) with { HashSeed = seed, Guardrails = [], Description = "" };

        await store.CreateExperimentAsync(experiment, [], Cancel);

        var found = await store.FindExperimentAsync(experiment.Id, Cancel);
        Assert.Equal(Json(experiment), Json(found));
        Assert.Equal(seed, found!.HashSeed);
        Assert.Equal(Assignment.VariantFor(experiment, "user-1"), Assignment.VariantFor(found, "user-1"));
    }

    [Fact]
    public async Task ListLiveExperimentsAsync_OnlyTheRunningAndPaused_NewestFirst()
    {
        var (prompts, store) = await CreateStoreAsync();
        var expected = new List<string>();
        foreach (var status in Enum.GetValues<ExperimentStatus>())
        {
            var (prompt, first, second) = await SeedPromptAsync(prompts, $"live/{Names.Of(status)}");
            var experiment = Experiment(prompt, first, second, status: status, createdAt: Now.AddMinutes((int)status));
            await store.CreateExperimentAsync(experiment, [], Cancel);
            if (ExperimentLifecycle.IsLive(status)) expected.Insert(0, experiment.Id);
        }

        var live = await store.ListLiveExperimentsAsync(Cancel);

        Assert.Equal(2, expected.Count);
        Assert.Equal(expected, live.Select(e => e.Id));
    }

    [Fact]
    public async Task CreateExperimentAsync_WithAudit_WritesTheEntries()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "audited");
        var experiment = Experiment(prompt, v1, v2);

        await store.CreateExperimentAsync(experiment, [Audit("experiment.created", prompt.Name, experiment.Name)], Cancel);

        var entry = (await prompts.ListAuditAsync(new AuditQuery(prompt.Name), Cancel))[0];
        Assert.Equal(("experiment.created", experiment.Name), (entry.Action, entry.Subject));
    }

    [Fact]
    public async Task FindExperimentAsync_Unknown_ReturnsNull()
    {
        var (_, store) = await CreateStoreAsync();

        Assert.Null(await store.FindExperimentAsync("unknown", Cancel));
        Assert.Null(await store.FindRunningExperimentAsync("unknown", Cancel));
        Assert.Empty(await store.ListExperimentsAsync(null, Cancel));
        Assert.Empty(await store.CountExposuresAsync("unknown", Cancel));
    }

    [Fact]
    public async Task ListExperimentsAsync_AllOrOneOfTwoPrompts_NewestFirst()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (first, firstV1, firstV2) = await SeedPromptAsync(prompts, "first");
        var (second, secondV1, secondV2) = await SeedPromptAsync(prompts, "second");
        var middle = Experiment(first, firstV1, firstV2, "middle", createdAt: Now.AddDays(2));
        var oldest = Experiment(first, firstV1, firstV2, "oldest", createdAt: Now.AddDays(1));
        var newest = Experiment(first, firstV1, firstV2, "newest", createdAt: Now.AddDays(3));
        var other = Experiment(second, secondV1, secondV2, "other", createdAt: Now.AddDays(4));
        foreach (var experiment in new[] { middle, oldest, other, newest })
            await store.CreateExperimentAsync(experiment, [], Cancel);

        var ofFirst = await store.ListExperimentsAsync("first", Cancel);
        var all = await store.ListExperimentsAsync(null, Cancel);
        var ofUnknown = await store.ListExperimentsAsync("unknown", Cancel);

        Assert.Equal(["newest", "middle", "oldest"], ofFirst.Select(e => e.Name));
        Assert.Equal(["other", "newest", "middle", "oldest"], all.Select(e => e.Name));
        Assert.Equal(Json(newest), Json(ofFirst[0]));
        Assert.Empty(ofUnknown);
    }

    [Fact]
    public async Task CreateExperimentAsync_NameTakenOnSamePrompt_ThrowsExperimentExistsAndWritesNothing()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "named");
        var (other, otherV1, otherV2) = await SeedPromptAsync(prompts, "other");
        await store.CreateExperimentAsync(Experiment(prompt, v1, v2, "headline"), [], Cancel);
        var auditBefore = (await prompts.ListAuditAsync(new AuditQuery(), Cancel)).Count;
        var duplicate = Experiment(prompt, v1, v2, "headline");

        var error = await Assert.ThrowsAsync<ConflictException>(() =>
            store.CreateExperimentAsync(duplicate, [Audit("experiment.created", prompt.Name)], Cancel));
        await store.CreateExperimentAsync(Experiment(other, otherV1, otherV2, "headline"), [], Cancel);

        Assert.Equal(("experiment_exists", "name"), (error.Code, error.Field));
        Assert.Contains("prompt 'named' already has an experiment named 'headline'", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.FindExperimentAsync(duplicate.Id, Cancel));
        Assert.Equal(auditBefore, (await prompts.ListAuditAsync(new AuditQuery(), Cancel)).Count);
        Assert.Equal(2, (await store.ListExperimentsAsync(null, Cancel)).Count);
    }

    [Fact]
    public async Task UpdateExperimentAsync_SecondRunningOnPrompt_ThrowsExperimentRunningAndWritesNothing()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "busy");
        var (other, otherV1, otherV2) = await SeedPromptAsync(prompts, "other");
        var running = Experiment(prompt, v1, v2, "running", ExperimentStatus.Running);
        var waiting = Experiment(prompt, v1, v2, "waiting");
        var elsewhere = Experiment(other, otherV1, otherV2, "elsewhere", ExperimentStatus.Running);
        await store.CreateExperimentAsync(running, [], Cancel);
        await store.CreateExperimentAsync(waiting, [], Cancel);
        await store.CreateExperimentAsync(elsewhere, [], Cancel);
        var auditBefore = (await prompts.ListAuditAsync(new AuditQuery(), Cancel)).Count;

        var error = await Assert.ThrowsAsync<ConflictException>(() => store.UpdateExperimentAsync(
            waiting with { Status = ExperimentStatus.Running, StartedAt = Now }, ExperimentStatus.Draft,
            [Audit("experiment.started", prompt.Name, waiting.Name)], Cancel));

        Assert.Equal("experiment_running", error.Code);
        Assert.Contains("'busy'", error.Message, StringComparison.Ordinal);
        // It names the running experiment, so the user knows what to pause (it said only "already has a running experiment").
        Assert.Contains($"'running' ({running.Id})", error.Message, StringComparison.Ordinal);
        Assert.Equal(Json(waiting), Json(await store.FindExperimentAsync(waiting.Id, Cancel)));
        Assert.Equal(auditBefore, (await prompts.ListAuditAsync(new AuditQuery(), Cancel)).Count);
    }

    [Fact]
    public async Task CreateExperimentAsync_RunningWhileAnotherRuns_ThrowsExperimentRunning()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "busy");
        var running = Experiment(prompt, v1, v2, "running", ExperimentStatus.Running);
        await store.CreateExperimentAsync(running, [], Cancel);
        var second = Experiment(prompt, v1, v2, "second", ExperimentStatus.Running);

        var error = await Assert.ThrowsAsync<ConflictException>(() => store.CreateExperimentAsync(second, [], Cancel));

        Assert.Equal("experiment_running", error.Code);
        Assert.Contains($"'running' ({running.Id})", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.FindExperimentAsync(second.Id, Cancel));
    }

    [Fact]
    public async Task FindRunningExperimentAsync_StartPauseRestart_FollowsTheStatus()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "lifecycle");
        var (other, otherV1, otherV2) = await SeedPromptAsync(prompts, "other");
        var draft = Experiment(prompt, v1, v2);
        await store.CreateExperimentAsync(draft, [], Cancel);
        await store.CreateExperimentAsync(Experiment(other, otherV1, otherV2, status: ExperimentStatus.Running), [], Cancel);
        var running = draft with { Status = ExperimentStatus.Running, StartedAt = Now.AddHours(1), UpdatedAt = Now.AddHours(1) };
        var paused = running with { Status = ExperimentStatus.Paused, UpdatedAt = Now.AddHours(2) };
        var next = Experiment(prompt, v1, v2, "next", ExperimentStatus.Running);

        var beforeStart = await store.FindRunningExperimentAsync(prompt.Id, Cancel);
        await store.UpdateExperimentAsync(running, ExperimentStatus.Draft, [], Cancel);
        var afterStart = await store.FindRunningExperimentAsync(prompt.Id, Cancel);
        await store.UpdateExperimentAsync(paused, ExperimentStatus.Running, [], Cancel);
        var afterPause = await store.FindRunningExperimentAsync(prompt.Id, Cancel);
        await store.CreateExperimentAsync(next, [], Cancel);
        var afterNext = await store.FindRunningExperimentAsync(prompt.Id, Cancel);

        Assert.Null(beforeStart);
        Assert.Equal(Json(running), Json(afterStart));
        Assert.Null(afterPause);
        Assert.Equal(next.Id, afterNext?.Id);
    }

    [Fact]
    public async Task UpdateExperimentAsync_ExpectedStatus_ReplacesEveryFieldAndWritesAudit()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "updated");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        await store.CreateExperimentAsync(experiment, [], Cancel);
        var completed = experiment with
        {
            Name = "renamed", Description = "new description", Variants = [.. experiment.Variants.Take(2).Select(v => v with { Weight = 50m })],
            TargetMetric = MetricName.ErrorRate, MinimumSampleSize = 7, ConfidenceLevel = 0.9, MinimumDetectableEffect = 0.2, Power = 0.95,
            Guardrails = [new Guardrail(MetricName.AvgCost, 0.5)], PromoteWinner = false, Status = ExperimentStatus.Completed,
            Winner = experiment.Variants[1].Id, StatusReason = "significant winner", UpdatedAt = Now.AddDays(9), StartedAt = Now.AddDays(1), EndedAt = Now.AddDays(9),
            PromotionRefused = "approval required",
        };

        await store.UpdateExperimentAsync(completed, ExperimentStatus.Running, [Audit("experiment.completed", prompt.Name, "renamed")], Cancel);

        Assert.Equal(Json(completed), Json(await store.FindExperimentAsync(experiment.Id, Cancel)));
        Assert.Equal("experiment.completed", (await prompts.ListAuditAsync(new AuditQuery(prompt.Name), Cancel))[0].Action);
    }

    [Theory]
    [InlineData(ExperimentStatus.Draft)]
    [InlineData(ExperimentStatus.Paused)]
    public async Task UpdateExperimentAsync_StaleExpectedStatus_ThrowsConcurrentWriteAndWritesNothing(ExperimentStatus expected)
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "stale");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        await store.CreateExperimentAsync(experiment, [], Cancel);
        var auditBefore = (await prompts.ListAuditAsync(new AuditQuery(), Cancel)).Count;

        await Assert.ThrowsAsync<ConcurrentWriteException>(() => store.UpdateExperimentAsync(
            experiment with { Status = ExperimentStatus.Cancelled }, expected, [Audit("experiment.cancelled", prompt.Name)], Cancel));

        Assert.Equal(ExperimentStatus.Running, (await store.FindExperimentAsync(experiment.Id, Cancel))!.Status);
        Assert.Equal(auditBefore, (await prompts.ListAuditAsync(new AuditQuery(), Cancel)).Count);
    }

    [Fact]
    public async Task UpdateExperimentAsync_IncludeGeneration_AdvancesIt_AndAStaleOneThrowsConcurrentWriteAndWritesNothing()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "started");
        var first = Experiment(prompt, v1, v2, "first");
        var second = Experiment(prompt, v1, v2, "second");
        await store.CreateExperimentAsync(first, [], Cancel);
        await store.CreateExperimentAsync(second, [], Cancel);
        var read = await prompts.ReadIncludeGenerationAsync(Cancel);

        await store.UpdateExperimentAsync(first with { Status = ExperimentStatus.Running }, ExperimentStatus.Draft, [], read, null, Cancel);
        await Assert.ThrowsAsync<ConcurrentWriteException>(() =>
            store.UpdateExperimentAsync(second with { Status = ExperimentStatus.Cancelled }, ExperimentStatus.Draft, [], read, null, Cancel));

        Assert.Equal(read + 1, await prompts.ReadIncludeGenerationAsync(Cancel));
        Assert.Equal(ExperimentStatus.Draft, (await store.FindExperimentAsync(second.Id, Cancel))!.Status);
    }

    /// <summary>Completing with <c>promoteWinner</c> writes the promote in the same transaction: both land, or neither.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UpdateExperimentAsync_WithAPromotion_CompletesOnlyWithThePromote(bool promotionCurrent)
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "promoted");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        await store.CreateExperimentAsync(experiment, [], Cancel);
        var completed = experiment with { Status = ExperimentStatus.Completed, Winner = experiment.Variants[1].Id, EndedAt = Now.AddDays(1) };
        // A stale promote expects the winner approved, but it is still a draft: its status change applies to nothing.
        var winner = promotionCurrent ? v2 : v2 with { Status = VersionStatus.Approved };
        var promotion = new PromptChanges
        {
            StatusChanges = [StatusChange.Of(winner, VersionStatus.Production)],
            LabelChanges = [new LabelChange(prompt.Id, PromptVault.Core.Prompts.Label.Production, null, v2.Id, Now, "alice")],
            Audit = [Audit("version.promoted", prompt.Name, "1.0.1")],
        };

        var error = await Record.ExceptionAsync(() => store.UpdateExperimentAsync(completed, ExperimentStatus.Running,
            [Audit("experiment.completed", prompt.Name, experiment.Name)], null, promotion, Cancel));

        if (promotionCurrent) Assert.Null(error);
        else Assert.IsType<ConcurrentWriteException>(error);
        Assert.Equal(promotionCurrent ? ExperimentStatus.Completed : ExperimentStatus.Running, (await store.FindExperimentAsync(experiment.Id, Cancel))!.Status);
        Assert.Equal(promotionCurrent ? VersionStatus.Production : VersionStatus.Draft, (await prompts.FindVersionByIdAsync(prompt.Id, v2.Id, Cancel))!.Status);
        Assert.Equal(promotionCurrent ? v2.Id : null, (await prompts.ListLabelsAsync(prompt.Id, Cancel)).SingleOrDefault(l => l.Name == PromptVault.Core.Prompts.Label.Production)?.VersionId);
        Assert.Equal(promotionCurrent ? ["version.promoted", "experiment.completed"] : [],
            (await prompts.ListAuditAsync(new AuditQuery(prompt.Name), Cancel)).Select(e => e.Action).Where(a => a is "version.promoted" or "experiment.completed"));
    }

    [Fact]
    public async Task UpdateExperimentAsync_UnknownExperiment_ThrowsConcurrentWrite()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "never-created");

        await Assert.ThrowsAsync<ConcurrentWriteException>(() =>
            store.UpdateExperimentAsync(Experiment(prompt, v1, v2), ExperimentStatus.Draft, [], Cancel));
    }

    [Fact]
    public async Task UpdateExperimentAsync_RenameToTakenName_ThrowsExperimentExists()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "renamed");
        var first = Experiment(prompt, v1, v2, "first");
        var second = Experiment(prompt, v1, v2, "second");
        await store.CreateExperimentAsync(first, [], Cancel);
        await store.CreateExperimentAsync(second, [], Cancel);

        var error = await Assert.ThrowsAsync<ConflictException>(() =>
            store.UpdateExperimentAsync(second with { Name = "first" }, ExperimentStatus.Draft, [], Cancel));

        Assert.Equal(("experiment_exists", "name"), (error.Code, error.Field));
        Assert.Equal("second", (await store.FindExperimentAsync(second.Id, Cancel))!.Name);
    }

    [Fact]
    public async Task RecordExposureAsync_RepeatedUnits_CountsEachUnitsFirstExposureOnly()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "exposed");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        var other = Experiment(prompt, v1, v2, "other");
        await store.CreateExperimentAsync(experiment, [], Cancel);
        await store.CreateExperimentAsync(other, [], Cancel);
        var (control, challenger) = (experiment.Variants[0].Id, experiment.Variants[1].Id);

        bool[] first =
        [
            await store.RecordExposureAsync(new Exposure(experiment.Id, control, "ann", Now), Cancel),
            await store.RecordExposureAsync(new Exposure(experiment.Id, challenger, "bob", Now), Cancel),
            await store.RecordExposureAsync(new Exposure(experiment.Id, challenger, "cy", Now), Cancel),
            await store.RecordExposureAsync(new Exposure(other.Id, other.Variants[0].Id, "ann", Now), Cancel),
        ];
        bool[] again =
        [
            await store.RecordExposureAsync(new Exposure(experiment.Id, control, "ann", Now.AddHours(1)), Cancel),
            await store.RecordExposureAsync(new Exposure(experiment.Id, challenger, "ann", Now.AddHours(1)), Cancel),
        ];

        Assert.All(first, Assert.True);
        Assert.All(again, Assert.False);
        Assert.Equal(new Dictionary<string, long> { [control] = 1, [challenger] = 2 }, await store.CountExposuresAsync(experiment.Id, Cancel));
        Assert.Equal(new Dictionary<string, long> { [other.Variants[0].Id] = 1 }, await store.CountExposuresAsync(other.Id, Cancel));
    }

    [Fact]
    public async Task RecordExposureAsync_ParallelRepeats_CountsDistinctUnits()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "crowded");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        await store.CreateExperimentAsync(experiment, [], Cancel);
        var exposures = Enumerable.Range(0, 300).Select(i => Exposure(experiment, $"unit-{i % 100}"));

        var first = await Task.WhenAll(exposures.Select(e => Task.Run(() => store.RecordExposureAsync(e, Cancel), Cancel)));

        var counts = await store.CountExposuresAsync(experiment.Id, Cancel);
        Assert.Equal(100, first.Count(f => f));
        Assert.Equal(100, counts.Values.Sum());
        Assert.Equal(experiment.Variants.Select(v => v.Id).Order(), counts.Keys.Order());
    }

    [Fact]
    public async Task RecordExposuresAsync_RepeatsInTheBatchAndUnitsExposedBefore_OnlyEachUnitsFirstExposureCounts()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "batched");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        var other = Experiment(prompt, v1, v2, "other");
        await store.CreateExperimentAsync(experiment, [], Cancel);
        await store.CreateExperimentAsync(other, [], Cancel);
        Assert.True(await store.RecordExposureAsync(Exposure(experiment, "ann"), Cancel));

        var first = await store.RecordExposuresAsync(
        [
            Exposure(experiment, "bob"), Exposure(experiment, "ann"), Exposure(experiment, "bob") with { At = Now.AddHours(1) },
            Exposure(experiment, "cy"), Exposure(other, "ann"), Exposure(experiment, "cy"),
        ], Cancel);

        Assert.Equal([true, false, false, true, true, false], first);
        Assert.Equal(new[] { "ann", "bob", "cy" }.GroupBy(unit => Exposure(experiment, unit).VariantId).ToDictionary(g => g.Key, g => (long)g.Count()),
            await store.CountExposuresAsync(experiment.Id, Cancel));
        Assert.Equal(1, (await store.CountExposuresAsync(other.Id, Cancel)).Values.Sum());
    }

    [Fact]
    public async Task RecordExposuresAsync_OneOfAnUnknownExperiment_ThrowsExperimentNotFound_AndStoresNoneOfTheBatch()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "refused");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        await store.CreateExperimentAsync(experiment, [], Cancel);

        var error = await Assert.ThrowsAsync<NotFoundException>(() =>
            store.RecordExposuresAsync([Exposure(experiment, "ann"), new Exposure("unknown", "variant", "bob", Now), Exposure(experiment, "cy")], Cancel));

        Assert.Equal("experiment_not_found", error.Code);
        Assert.Empty(await store.CountExposuresAsync(experiment.Id, Cancel));
        Assert.True(await store.RecordExposureAsync(Exposure(experiment, "ann"), Cancel));
    }

    [Fact]
    public async Task SaveSequentialStateAsync_Looks_KeepEachKeysSmallestMinimum_AndAreCounted()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "looked");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        var other = Experiment(prompt, v1, v2, "other");
        await store.CreateExperimentAsync(experiment, [], Cancel);
        await store.CreateExperimentAsync(other, [], Cancel);
        var before = await store.ReadSequentialStateAsync(experiment.Id, Cancel);

        await store.SaveSequentialStateAsync(experiment.Id, State(("a", 0.04), ("srm", 0.5)), [], Cancel);
        var first = await store.ReadSequentialStateAsync(experiment.Id, Cancel);
        // A look that raced the first one and saw less: its higher minimum does not replace the stored one.
        await store.SaveSequentialStateAsync(experiment.Id, State(("a", 0.2), ("b", 0.3), ("srm", 0.123456789012345)), [], Cancel);

        Assert.Null(before);
        Assert.Equal(Sorted(State(("a", 0.04), ("looks", 1), ("srm", 0.5))), Sorted(first!));
        var second = (await store.ReadSequentialStateAsync(experiment.Id, Cancel))!;
        Assert.Equal(Sorted(State(("a", 0.04), ("b", 0.3), ("looks", 2), ("srm", 0.123456789012345))), Sorted(second));
        Assert.Equal(2, second.Looks);
        Assert.Null(await store.ReadSequentialStateAsync(other.Id, Cancel));
    }

    [Fact]
    public async Task SaveSequentialStateAsync_WithHistory_ReadReturnsEveryLooksPointsOldestFirst()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "charted");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        var other = Experiment(prompt, v1, v2, "other");
        await store.CreateExperimentAsync(experiment, [], Cancel);
        await store.CreateExperimentAsync(other, [], Cancel);
        var start = new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero);
        SequentialHistoryPoint Point(string variant, int minute, double width) =>
            new(variant, "conversionRate", start.AddMinutes(minute), 0.01 * minute, -width, width);

        await store.SaveSequentialStateAsync(experiment.Id, State(("a", 0.5)), [Point("b", 2, 0.2), Point("c", 2, 0.3)], Cancel);
        await store.SaveSequentialStateAsync(experiment.Id, State(("a", 0.4)), [Point("b", 1, 0.4)], Cancel);
        await store.SaveSequentialStateAsync(experiment.Id, State(("a", 0.3)), [Point("b", 3, 0.1)], Cancel);

        Assert.Equal([Point("b", 1, 0.4), Point("b", 2, 0.2), Point("c", 2, 0.3), Point("b", 3, 0.1)],
            await store.ReadSequentialHistoryAsync(experiment.Id, Cancel));
        Assert.Equal(0.3, (await store.ReadSequentialStateAsync(experiment.Id, Cancel))!.Values["a"]);
        Assert.Empty(await store.ReadSequentialHistoryAsync(other.Id, Cancel));
    }

    [Fact]
    public async Task SaveSequentialStateAsync_MoreLooksThanTheCap_KeepsAtMostTheCapSpanningTheWholeExperiment()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "long-running");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        await store.CreateExperimentAsync(experiment, [], Cancel);
        var start = new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero);
        const int looks = SequentialHistoryPoint.MaxPerSeries + 100;

        for (var i = 0; i < looks; i++)
            await store.SaveSequentialStateAsync(experiment.Id, SequentialState.Empty,
                [new SequentialHistoryPoint("b", "conversionRate", start.AddSeconds(i), i, -1, 1)], Cancel);

        var stored = await store.ReadSequentialHistoryAsync(experiment.Id, Cancel);
        Assert.InRange(stored.Count, SequentialHistoryPoint.MaxPerSeries / 2, SequentialHistoryPoint.MaxPerSeries);
        Assert.Equal(start, stored[0].At);
        Assert.Equal(start.AddSeconds(looks - 1), stored[^1].At);
        Assert.Equal(stored.Select(p => p.At).Order(), stored.Select(p => p.At));
    }

    [Fact]
    public async Task SaveSequentialStateAsync_UnknownExperiment_ThrowsExperimentNotFound()
    {
        var (_, store) = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<NotFoundException>(() => store.SaveSequentialStateAsync("unknown", SequentialState.Empty, [], Cancel));

        Assert.Equal("experiment_not_found", error.Code);
        Assert.Null(await store.ReadSequentialStateAsync("unknown", Cancel));
    }

    [Fact]
    public async Task RecordExposureAsync_UnknownExperiment_ThrowsExperimentNotFound()
    {
        var (_, store) = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<NotFoundException>(() => store.RecordExposureAsync(new Exposure("unknown", "variant", "ann", Now), Cancel));

        Assert.Equal("experiment_not_found", error.Code);
        Assert.Empty(await store.CountExposuresAsync("unknown", Cancel));
    }

    private static SequentialState State(params (string Key, double Minimum)[] minima) =>
        new(minima.ToDictionary(m => m.Key, m => m.Minimum, StringComparer.Ordinal));

    private static List<KeyValuePair<string, double>> Sorted(SequentialState state) => state.Values.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
}
