using System.Text.Json;
using MathNet.Numerics.Distributions;
using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Testing;

/// <summary>
/// What every <see cref="IMetricStore"/> must do. Each provider inherits this suite and supplies a new, empty, migrated
/// store; a provider difference is an override with a comment.
/// </summary>
public abstract class MetricStoreContractTests
{
    private static readonly DateTimeOffset Hour0 = MetricPeriods.HourOf(Now);

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A new, empty store; the prompt and experiment stores hold what events refer to (all may be one object).</summary>
    protected abstract Task<(IPromptStore Prompts, IExperimentStore Experiments, IMetricStore Metrics)> CreateStoreAsync();

    [Fact]
    public async Task RecordEventsAsync_BatchesNamingHundredsOfUnits_EqualFoldingTheEventsInMemory()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (_, experiment) = await SeedAsync(prompts, experiments);
        var random = new Random(12);
        // 300 units: a third exposed to the variant their events name, a third to the other one, a third only after the
        // batches (their stored sums are then brought in), so every unit row a batch writes is checked through the results.
        // Each batch names about 190 units, as a production batch does (the other tests name 50 at most).
        var exposed = new Dictionary<string, string>();
        async Task ExposeAsync(int unit, bool toNamedVariant)
        {
            var named = Assignment.VariantFor(experiment, $"unit-{unit}");
            exposed[$"unit-{unit}"] = toNamedVariant ? named.Id : experiment.Variants.First(v => v.Id != named.Id).Id;
            await experiments.RecordExposureAsync(new Exposure(experiment.Id, exposed[$"unit-{unit}"], $"unit-{unit}", Now), Cancel);
        }
        for (var u = 0; u < 300; u++)
        {
            if (u % 3 != 2)
                await ExposeAsync(u, toNamedVariant: u % 3 == 0);
        }
        var events = Enumerable.Range(0, 900).Select(i =>
        {
            var unit = $"unit-{random.Next(300)}";
            return InExperiment(experiment, Assignment.VariantFor(experiment, unit), unit, latencyMs: random.Next(1, 5_000), converted: random.Next(4) == 0);
        }).ToList();

        foreach (var batch in events.Chunk(300))
            await store.RecordEventsAsync(batch, Cancel);
        for (var u = 2; u < 300; u += 3)
            await ExposeAsync(u, toNamedVariant: true);

        UnitStatsAssert.Equal(UnitStatsAssert.Expected(events, exposed), await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel));
    }

    /// <summary>
    /// A/A experiments (both variants serve one version) analysed as the server does, from the per-unit stats this store
    /// keeps: looked at after every 100 units, the sequential state carried from look to look through the store, stopped
    /// at a winner. Each unit sends 1 to 5 events that share its conversion propensity, so a store that counted events
    /// where units belong would find more winners. Every winner is a false one; they may be no more than a false-winner
    /// rate of 1 - confidenceLevel gives in 19 of 20 such simulations (its binomial 95% quantile).
    /// </summary>
    [Fact]
    public async Task AaExperiments_AnalysedFromTheStoredUnitStatsAtEveryLook_FalseWinnersWithinTheConfidenceLevel()
    {
        const int Runs = 60, UnitsPerLook = 100, Looks = 6;
        const double Confidence = 0.95;
        var (prompts, experiments, store) = await CreateStoreAsync();
        var winners = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Runs), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Cancel }, async (run, cancel) =>
        {
            var random = new Random(run);
            var (prompt, version, _) = await SeedPromptAsync(prompts, $"aa-{run}"); // one running experiment per prompt
            var experiment = Experiment(prompt, version, version, name: $"aa-{run}", status: ExperimentStatus.Running) with
            {
                Variants = [new Variant(NewId(), "a1", version.Id, 50m), new Variant(NewId(), "a2", version.Id, 50m)],
                TargetMetric = MetricName.ConversionRate, MinimumSampleSize = ExperimentAnalyzer.FewestSettledUnits, ConfidenceLevel = Confidence, Guardrails = [],
            };
            await experiments.CreateExperimentAsync(experiment, [], cancel);
            for (var look = 0; look < Looks; look++)
            {
                var units = Enumerable.Range(look * UnitsPerLook, UnitsPerLook).Select(u => $"unit-{u}").ToList();
                await experiments.RecordExposuresAsync(units.Select(u => Exposure(experiment, u)).ToList(), cancel);
                await store.RecordEventsAsync(units.SelectMany(u =>
                {
                    var propensity = random.NextDouble() * 0.4;
                    return Enumerable.Range(0, random.Next(1, 6))
                        .Select(_ => InExperiment(experiment, Assignment.VariantFor(experiment, u), u, 10, random.NextDouble() < propensity)).ToList();
                }).ToList(), cancel);
                var results = ExperimentAnalyzer.Analyze(experiment, await experiments.CountExposuresAsync(experiment.Id, cancel),
                    await store.ReadVariantUnitStatsAsync(experiment.Id, cancel), await experiments.ReadSequentialStateAsync(experiment.Id, cancel));
                await experiments.SaveSequentialStateAsync(experiment.Id, results.State ?? SequentialState.Empty, [], cancel);
                if (results.Decision.Action == DecisionAction.Complete)
                {
                    Interlocked.Increment(ref winners);
                    return;
                }
            }
        });

        var alpha = 1 - Confidence;
        var allowed = Enumerable.Range(0, Runs).First(k => Binomial.CDF(alpha, Runs, k) >= 0.95);
        Assert.True(winners <= allowed, $"{winners} false winners in {Runs} A/A runs; a false-winner rate of {alpha:P0} gives at most {allowed} in 19 of 20");
    }

    [Fact]
    public async Task ReadAsync_ManyBatches_EqualAggregatingTheRawEventsInMemory()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (versions, experiment) = await SeedAsync(prompts, experiments);
        var events = RandomEvents(versions, experiment, count: 700, seed: 7);
        // Two units in three see their variant, some before their first event and some after, between batches.
        var exposed = Enumerable.Range(0, 50).Where(u => u % 3 != 0).ToDictionary(u => $"unit-{u}", u => Assignment.VariantFor(experiment, $"unit-{u}").Id);
        var exposures = new Queue<KeyValuePair<string, string>>(exposed);

        foreach (var batch in Batches(events, seed: 8))
        {
            await store.RecordEventsAsync(batch, Cancel);
            if (exposures.TryDequeue(out var exposure))
                await experiments.RecordExposureAsync(new Exposure(experiment.Id, exposure.Value, exposure.Key, Now), Cancel);
        }
        while (exposures.TryDequeue(out var exposure))
            await experiments.RecordExposureAsync(new Exposure(experiment.Id, exposure.Value, exposure.Key, Now), Cancel);

        foreach (var version in versions)
        {
            var ofVersion = events.Where(e => e.VersionId == version).ToList();
            var expectedHours = ofVersion.GroupBy(e => MetricPeriods.HourOf(e.Timestamp)).OrderBy(g => g.Key).ToList();
            var hours = await store.ReadVersionHoursAsync(version, Hour0.AddDays(-1), Cancel);
            Assert.Equal(expectedHours.Select(g => g.Key), hours.Select(h => h.HourStart));
            Assert.All(hours, h => Assert.Equal(TimeSpan.Zero, h.HourStart.Offset));
            for (var i = 0; i < hours.Count; i++)
                AggregateAssert.Equal(Aggregate(expectedHours[i]), hours[i].Aggregate);
            AggregateAssert.Equal(Aggregate(ofVersion), await store.ReadVersionTotalAsync(version, Cancel));
        }
        var unitStats = await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel);
        UnitStatsAssert.Equal(UnitStatsAssert.Expected(events, exposed), unitStats);
        Assert.All(unitStats.Values, s => Assert.InRange(s.UnattributedEvents, 1, long.MaxValue));
        Assert.All(unitStats.Values, s => Assert.InRange(s.LatencyMs.Units, 5, long.MaxValue));
        Assert.InRange(events.Select(e => MetricPeriods.HourOf(e.Timestamp)).Distinct().Count(), 6, 7);
    }

    [Fact]
    public async Task RecordEventsAsync_IdsStoredBeforeOrRepeatedInBatch_SkipsAndReportsThem()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (versions, _) = await SeedAsync(prompts, experiments);
        var v = versions[0];

        var first = await store.RecordEventsAsync([Event(v, Now, "a"), Event(v, Now, "b"), Event(v, Now)], Cancel);
        var second = await store.RecordEventsAsync(
            [Event(v, Now, "b"), Event(v, Now, "c"), Event(v, Now, "c"), Event(v, Now), Event(v, Now, "a"), Event(v, Now, "d")], Cancel);

        Assert.Equal((3, 0), (first.Stored, first.DuplicateIds.Count));
        Assert.Equal(3, second.Stored);
        Assert.Equal(["b", "c", "a"], second.DuplicateIds);
        Assert.Equal(6, (await store.ReadVersionTotalAsync(v, Cancel)).Count);
        Assert.Equal(6, Assert.Single(await store.ReadVersionHoursAsync(v, Hour0, Cancel)).Aggregate.Count);
    }

    [Fact]
    public async Task RecordEventsAsync_EmptyBatch_StoresNothing()
    {
        var (_, _, store) = await CreateStoreAsync();

        var result = await store.RecordEventsAsync([], Cancel);

        Assert.Equal((0, 0), (result.Stored, result.DuplicateIds.Count));
    }

    [Theory]
    [InlineData("version_not_found")]
    [InlineData("experiment_not_found")]
    public async Task RecordEventsAsync_UnknownReferenceMidBatch_ThrowsAndStoresNothing(string code)
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (versions, experiment) = await SeedAsync(prompts, experiments);
        var variant = experiment.Variants[1];
        var good = new[]
        {
            Event(variant.VersionId, Now, "a") with { ExperimentId = experiment.Id, VariantId = variant.Id },
            Event(versions[2], Now.AddHours(-3), "b"),
        };
        // Echoed as every not-found echoes what was named (PromptRules.Echo): a control character made visible.
        var bad = code == "version_not_found"
            ? Event("no-such\u0001version", Now, "c")
            : Event(variant.VersionId, Now, "c") with { ExperimentId = "no-such\u0001experiment", VariantId = variant.Id };

        var error = await Assert.ThrowsAsync<NotFoundException>(() => store.RecordEventsAsync([.. good, bad, Event(versions[2], Now, "d")], Cancel));

        Assert.Equal(code, error.Code);
        Assert.Equal(code == "version_not_found"
            ? "event 2: version 'no-such\\u0001version' does not exist; no event of the batch was stored."
            : "event 2: experiment 'no-such\\u0001experiment' does not exist; no event of the batch was stored.", error.Message);
        Assert.Equal(0, (await store.ReadVersionTotalAsync(variant.VersionId, Cancel)).Count);
        Assert.Equal(0, (await store.ReadVersionTotalAsync(versions[2], Cancel)).Count);
        Assert.Empty(await store.ReadVersionHoursAsync(versions[2], Hour0.AddDays(-1), Cancel));
        Assert.Empty(await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel));
        var retried = await store.RecordEventsAsync(good, Cancel);
        Assert.Equal((2, 0), (retried.Stored, retried.DuplicateIds.Count));
    }

    [Fact]
    public async Task ReadVersionHoursAsync_FromAnHour_ThatHourOnOldestFirst()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (versions, _) = await SeedAsync(prompts, experiments);
        var (v, other) = (versions[0], versions[1]);
        await store.RecordEventsAsync(
        [
            Event(v, Hour0.AddHours(3).AddMinutes(59.99)), Event(v, Hour0), Event(v, Hour0.AddMinutes(30)), Event(v, Hour0.AddHours(2)),
            Event(v, Hour0.AddHours(-5)), Event(other, Hour0.AddHours(1)),
        ], Cancel);

        var fromHour2 = await store.ReadVersionHoursAsync(v, Hour0.AddHours(2), Cancel);
        var fromInsideHour0 = await store.ReadVersionHoursAsync(v, Hour0.AddMinutes(45), Cancel);
        var fromAfterLast = await store.ReadVersionHoursAsync(v, Hour0.AddHours(4), Cancel);
        var fromFarBack = await store.ReadVersionHoursAsync(v, DateTimeOffset.MinValue, Cancel);

        Assert.Equal([(Hour0.AddHours(2), 1L), (Hour0.AddHours(3), 1L)], fromHour2.Select(h => (h.HourStart, h.Aggregate.Count)));
        Assert.Equal([(Hour0, 2L), (Hour0.AddHours(2), 1L), (Hour0.AddHours(3), 1L)], fromInsideHour0.Select(h => (h.HourStart, h.Aggregate.Count)));
        Assert.Empty(fromAfterLast);
        Assert.Equal([Hour0.AddHours(-5), Hour0, Hour0.AddHours(2), Hour0.AddHours(3)], fromFarBack.Select(h => h.HourStart));
    }

    [Fact]
    public async Task RecordEventsAsync_NonUtcTimestamp_CountsInItsUtcHour()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (versions, _) = await SeedAsync(prompts, experiments);
        var local = new DateTimeOffset(2025, 3, 4, 0, 30, 0, TimeSpan.FromHours(5.5)); // 2025-03-03 19:00 UTC

        await store.RecordEventsAsync([Event(versions[0], local)], Cancel);

        var hour = Assert.Single(await store.ReadVersionHoursAsync(versions[0], DateTimeOffset.UnixEpoch, Cancel));
        Assert.Equal(new DateTimeOffset(2025, 3, 3, 19, 0, 0, TimeSpan.Zero), hour.HourStart);
        Assert.Equal(TimeSpan.Zero, hour.HourStart.Offset);
    }

    [Fact]
    public async Task ReadAsync_NoEvents_EmptyAggregates()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (versions, experiment) = await SeedAsync(prompts, experiments);

        var total = await store.ReadVersionTotalAsync(versions[0], Cancel);
        var unknown = await store.ReadVersionTotalAsync("unknown", Cancel);

        AggregateAssert.Equal(new MetricAggregate(), total);
        AggregateAssert.Equal(new MetricAggregate(), unknown);
        Assert.Empty(await store.ReadVersionHoursAsync(versions[0], DateTimeOffset.MinValue, Cancel));
        Assert.Empty(await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel));
    }

    [Fact]
    public async Task RecordEventsAsync_EventsWithoutBothExperimentAndVariant_CountForTheVersionOnly()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (_, experiment) = await SeedAsync(prompts, experiments);
        var control = experiment.Control;
        await experiments.RecordExposureAsync(new Exposure(experiment.Id, control.Id, "ann", Now), Cancel);

        await store.RecordEventsAsync(
        [
            Event(control.VersionId, Now) with { ExperimentId = experiment.Id, VariantId = control.Id, UnitId = "ann" },
            Event(control.VersionId, Now) with { ExperimentId = experiment.Id, UnitId = "ann" },
            Event(control.VersionId, Now) with { UnitId = "ann" },
        ], Cancel);

        var variant = Assert.Single(await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel));
        Assert.Equal((control.Id, 1L, 1.0, 0L), (variant.Key, variant.Value.ErrorRate.Units, variant.Value.ErrorRate.SumN, variant.Value.UnattributedEvents));
        Assert.Equal(3, (await store.ReadVersionTotalAsync(control.VersionId, Cancel)).Count);
    }

    [Fact]
    public async Task RecordEventsAsync_UnitExposedToTheVariant_CountsForIt()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (_, experiment) = await SeedAsync(prompts, experiments);
        var (control, challenger) = (experiment.Control, experiment.Variants[1]);
        await experiments.RecordExposureAsync(new Exposure(experiment.Id, control.Id, "ann", Now), Cancel);
        await experiments.RecordExposureAsync(new Exposure(experiment.Id, challenger.Id, "bob", Now), Cancel);
        List<MetricEvent> events =
        [
            InExperiment(experiment, control, "ann", 100, converted: false), InExperiment(experiment, control, "ann", 300, converted: true),
            InExperiment(experiment, challenger, "bob", 50, converted: false), InExperiment(experiment, challenger, "bob", 70, converted: false),
            InExperiment(experiment, challenger, "bob", 90, converted: false),
        ];

        await store.RecordEventsAsync(events[..3], Cancel);
        await store.RecordEventsAsync(events[3..], Cancel);

        var stats = await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel);
        UnitStatsAssert.Equal(UnitStatsAssert.Expected(events, new Dictionary<string, string> { ["ann"] = control.Id, ["bob"] = challenger.Id }), stats);
        Assert.Equal((1L, 1L, 200.0, 0L), (stats[control.Id].LatencyMs.Units, stats[control.Id].ConvertedUnits, stats[control.Id].LatencyMs.Mean, stats[control.Id].UnattributedEvents));
        Assert.Equal((1L, 0L, 70.0, 3.0), (stats[challenger.Id].LatencyMs.Units, stats[challenger.Id].ConvertedUnits, stats[challenger.Id].LatencyMs.Mean, stats[challenger.Id].ErrorRate.SumN));
    }

    [Fact]
    public async Task RecordExposureAsync_AfterTheUnitsEvents_BringsThemIn()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (_, experiment) = await SeedAsync(prompts, experiments);
        var challenger = experiment.Variants[1];
        List<MetricEvent> events =
            [InExperiment(experiment, challenger, "ann", 10, converted: true), InExperiment(experiment, challenger, "ann", 30, converted: false), InExperiment(experiment, challenger, "bob", 5, converted: false)];
        await store.RecordEventsAsync(events, Cancel);
        var before = (await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel))[challenger.Id];

        Assert.True(await experiments.RecordExposureAsync(new Exposure(experiment.Id, challenger.Id, "ann", Now), Cancel));
        Assert.False(await experiments.RecordExposureAsync(new Exposure(experiment.Id, challenger.Id, "ann", Now), Cancel));

        var after = (await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel))[challenger.Id];
        Assert.Equal((3L, 0L, 0L), (before.UnattributedEvents, before.LatencyMs.Units, before.ConvertedUnits));
        UnitStatsAssert.Equal(UnitStatsAssert.Expected(events, new Dictionary<string, string> { ["ann"] = challenger.Id })[challenger.Id], after);
        Assert.Equal((1L, 1L, 20.0, 1L), (after.LatencyMs.Units, after.ConvertedUnits, after.LatencyMs.Mean, after.UnattributedEvents));
    }

    [Fact]
    public async Task RecordEventsAsync_UnitExposedToAnotherVariant_LeavesTheEventsUnattributed()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (_, experiment) = await SeedAsync(prompts, experiments);
        var (control, challenger) = (experiment.Control, experiment.Variants[1]);
        await store.RecordEventsAsync([InExperiment(experiment, challenger, "ann", 10, converted: true)], Cancel);

        await experiments.RecordExposureAsync(new Exposure(experiment.Id, control.Id, "ann", Now), Cancel);
        await store.RecordEventsAsync([InExperiment(experiment, challenger, "ann", 20, converted: true), InExperiment(experiment, challenger, null, 30, converted: true)], Cancel);
        await experiments.RecordExposureAsync(new Exposure(experiment.Id, challenger.Id, "ann", Now), Cancel); // not the first: changes nothing

        var stats = Assert.Single(await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel));
        Assert.Equal(challenger.Id, stats.Key);
        Assert.Equal((3L, 0L, 0L, 0L), (stats.Value.UnattributedEvents, stats.Value.ConvertedUnits, stats.Value.LatencyMs.Units, stats.Value.ErrorRate.Units));
    }

    [Fact]
    public async Task RecordEventsAsync_EventIdsSentAgain_CountForTheUnitOnce()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (_, experiment) = await SeedAsync(prompts, experiments);
        var control = experiment.Control;
        MetricEvent[] sent = [InExperiment(experiment, control, "ann", 10, converted: false) with { Id = "a" }, InExperiment(experiment, control, "ann", 30, converted: false) with { Id = "b" }];
        MetricEvent[] unexposed = [InExperiment(experiment, control, "bob", 5, converted: false) with { Id = "c" }];
        await experiments.RecordExposureAsync(new Exposure(experiment.Id, control.Id, "ann", Now), Cancel);

        await store.RecordEventsAsync([.. sent, .. unexposed], Cancel);
        var again = await store.RecordEventsAsync([sent[1], sent[0], sent[1], unexposed[0]], Cancel);

        Assert.Equal(0, again.Stored);
        var stats = Assert.Single(await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel)).Value;
        Assert.Equal((1L, 2.0, 20.0, 1L), (stats.LatencyMs.Units, stats.LatencyMs.SumN, stats.LatencyMs.Mean, stats.UnattributedEvents));
    }

    [Fact]
    public async Task RecordEventsAsync_ParallelBatchesEachSentTwice_CountsEveryEventOnce()
    {
        var (prompts, experiments, store) = await CreateStoreAsync();
        var (versions, experiment) = await SeedAsync(prompts, experiments);
        var events = RandomEvents(versions, experiment, count: 1_200, seed: 11).Select((e, i) => e with { Id = $"event-{i}" }).ToList();
        var batches = events.Chunk(30).ToList();

        var results = await Task.WhenAll(batches.Concat(batches).Select(b => Task.Run(() => store.RecordEventsAsync(b, Cancel), Cancel)));

        Assert.Equal(events.Count, results.Sum(r => r.Stored));
        Assert.Equal(events.Count, results.Sum(r => r.DuplicateIds.Count));
        long total = 0;
        foreach (var version in versions)
        {
            var stored = await store.ReadVersionTotalAsync(version, Cancel);
            AggregateAssert.Equal(Aggregate(events.Where(e => e.VersionId == version)), stored);
            total += stored.Count;
        }
        Assert.Equal(events.Count, total);
        var stats = await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel);
        UnitStatsAssert.Equal(UnitStatsAssert.Expected(events, new Dictionary<string, string>()), stats);
        Assert.Equal(events.Count(e => e.VariantId is not null), stats.Values.Sum(s => s.UnattributedEvents));
    }

    /// <summary>Two prompts, three versions, and a running three-variant experiment on the first prompt.</summary>
    protected static async Task<(IReadOnlyList<string> Versions, Experiment Experiment)> SeedAsync(IPromptStore prompts, IExperimentStore experiments)
    {
        var (prompt, v1, v2) = await SeedPromptAsync(prompts, "measured");
        var (_, other, _) = await SeedPromptAsync(prompts, "other");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        await experiments.CreateExperimentAsync(experiment, [], Cancel);
        return ([v1.Id, v2.Id, other.Id], experiment);
    }

    /// <summary>
    /// Events over six hours around <see cref="Now"/>, some in non-UTC offsets; half of the first prompt's events are in the
    /// experiment (the unit's variant's version); every measure is present on about two events in three, with values from
    /// 0.001 to 10^7 so the latency histogram spreads over many buckets.
    /// </summary>
    protected static List<MetricEvent> RandomEvents(IReadOnlyList<string> versions, Experiment experiment, int count, int seed)
    {
        var random = new Random(seed);
        double? Maybe(double value) => random.Next(3) == 0 ? null : value;
        double Spread() => Math.Round(Math.Pow(10, random.NextDouble() * 10 - 3), 3);
        var events = new List<MetricEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var unit = $"unit-{random.Next(50)}";
            var unitId = random.Next(20) == 0 ? null : unit;
            var timestamp = Now.AddMinutes(random.Next(-180, 180)).AddTicks(random.Next()).ToOffset(TimeSpan.FromHours(random.Next(-11, 12)));
            var inExperiment = random.Next(2) == 0;
            var variant = Assignment.VariantFor(experiment, unit);
            var version = inExperiment ? variant.VersionId : versions[random.Next(versions.Count)];
            events.Add(new MetricEvent(null, version, inExperiment ? experiment.Id : null, inExperiment ? variant.Id : null, unitId, timestamp,
                Maybe(Spread()), (long?)Maybe(random.Next(10_000)), (long?)Maybe(random.Next(2_000)), Maybe(random.NextDouble() / 10),
                Maybe(random.NextDouble()), Maybe(random.Next(-1, 2)), random.Next(3) switch { 0 => null, 1 => true, _ => false },
                random.Next(10) == 0 ? "timeout" : null,
                random.Next(4) == 0 ? JsonSerializer.SerializeToElement(new { region = "eu", attempt = i }) : null));
        }
        return events;
    }

    /// <summary>An event of the variant from the unit (none when null), with a latency.</summary>
    protected static MetricEvent InExperiment(Experiment experiment, Variant variant, string? unitId, double latencyMs, bool converted) =>
        Event(variant.VersionId, Now) with { ExperimentId = experiment.Id, VariantId = variant.Id, UnitId = unitId, LatencyMs = latencyMs, Converted = converted };

    /// <summary>The events cut into batches of 1 to 80.</summary>
    private static IEnumerable<MetricEvent[]> Batches(IReadOnlyList<MetricEvent> events, int seed)
    {
        var random = new Random(seed);
        for (var start = 0; start < events.Count;)
        {
            var size = Math.Min(random.Next(1, 81), events.Count - start);
            yield return events.Skip(start).Take(size).ToArray();
            start += size;
        }
    }

    /// <summary>The events aggregated in memory, one by one.</summary>
    protected static MetricAggregate Aggregate(IEnumerable<MetricEvent> events)
    {
        var aggregate = new MetricAggregate();
        foreach (var e in events)
            aggregate.Add(e);
        return aggregate;
    }
}
