using Dapper;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Sqlite.Tests;

public sealed class SqliteMetricStoreTests : MetricStoreContractTests, IDisposable
{
    private readonly TempDatabase database = new();

    protected override async Task<(IPromptStore Prompts, IExperimentStore Experiments, IMetricStore Metrics)> CreateStoreAsync()
    {
        var store = await database.CreateStoreAsync();
        return (store, store, store);
    }

    public void Dispose() => database.Dispose();

    [Fact]
    public async Task ReadAsync_RawEventsGone_SameResults()
    {
        var store = await database.CreateStoreAsync();
        var (versions, experiment) = await SeedAsync(store, store);
        await store.RecordEventsAsync(RandomEvents(versions, experiment, count: 200, seed: 3), null, Cancel);
        var before = await ReadAllAsync(store, versions, experiment.Id);

        await using (var connection = await database.Connections.OpenAsync(Cancel))
            await connection.ExecuteAsync("DROP TABLE metric_events");
        var after = await ReadAllAsync(store, versions, experiment.Id);

        Assert.Equal(before, after);
        Assert.Contains("200", before, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SqlitePromptStore.ReadHoursSql)]
    [InlineData(SqlitePromptStore.ReadTotalSql)]
    public async Task ReadSql_QueryPlan_SearchesOneRangeOfTheRollupKey(string sql)
    {
        var store = await database.CreateStoreAsync();
        var (versions, experiment) = await SeedAsync(store, store);
        await store.RecordEventsAsync(RandomEvents(versions, experiment, count: 100, seed: 5), null, Cancel);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        await connection.ExecuteAsync("ANALYZE metric_rollups");

        var plan = await connection.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>("EXPLAIN QUERY PLAN " + sql,
            new { Scope = "version", ScopeId = versions[0], From = 0L, AllTime = -1L });

        // One step: a SEARCH of the primary key with scope and scope_id fixed and hour fixed or bounded. No SCAN, no
        // metric_events, and no sort (ORDER BY hour follows the key).
        var step = Assert.Single(plan).Detail;
        Assert.Matches(@"^SEARCH metric_rollups USING PRIMARY KEY \(scope=\? AND scope_id=\? AND hour[=>]\?\)$", step);
    }

    [Theory]
    [InlineData(SqlitePromptStore.FindUnitSumsSql, "unit_sums (experiment_id=? AND unit_id=? AND variant_id=?)")]
    [InlineData(SqlitePromptStore.FindVariantUnitStatsSql, "variant_unit_stats (experiment_id=? AND variant_id=?)")]
    [InlineData(SqlitePromptStore.ReadVariantUnitStatsSql, "variant_unit_stats (experiment_id=?)")]
    [InlineData(SqlitePromptStore.FindSequentialStateSql, "sequential_states (experiment_id=?)")]
    public async Task UnitAnalysisSql_QueryPlan_SearchesThePrimaryKey(string sql, params string[] keys)
    {
        var store = await database.CreateStoreAsync();
        var (versions, experiment) = await SeedAsync(store, store);
        var events = RandomEvents(versions, experiment, count: 200, seed: 5);
        foreach (var unit in events.Where(e => e.UnitId is not null).Select(e => e.UnitId!).Distinct().Where((_, i) => i % 2 == 0))
            await store.RecordExposureAsync(Exposure(experiment, unit), Cancel);
        await store.RecordEventsAsync(events, null, Cancel);
        await store.SaveSequentialStateAsync(experiment.Id, new SequentialState(new Dictionary<string, double> { ["srm"] = 0.5 }), [], Cancel);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        await connection.ExecuteAsync("ANALYZE main");

        var plan = await connection.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>("EXPLAIN QUERY PLAN " + sql,
            new { ExperimentId = experiment.Id, UnitId = "unit-1", VariantId = experiment.Control.Id });

        // One step, a keyed SEARCH: the cost of recording an event or exposure does not grow with the number of units.
        // (A statement of scalar subqueries reads one constant row, with a SCALAR SUBQUERY step above each search.)
        var steps = plan.Select(p => p.Detail).Where(d => d != "SCAN CONSTANT ROW" && !d.StartsWith("SCALAR SUBQUERY", StringComparison.Ordinal));
        Assert.Equal(keys.Select(key => $"SEARCH {key.Replace(" (", " USING PRIMARY KEY (", StringComparison.Ordinal)}"), steps);
    }

    [Fact]
    public async Task RecordExposureAsync_UnitRowUnreadable_RecordsNoExposure()
    {
        var (store, _, experiment) = await SeedUnreadableUnitAsync();
        var control = experiment.Control;

        await Assert.ThrowsAsync<InvalidDataException>(() => store.RecordExposureAsync(new Exposure(experiment.Id, control.Id, "ann", Now), Cancel));

        // The exposure and its count are in the transaction that failed to bring the unit in: neither was kept.
        Assert.Empty(await store.CountExposuresAsync(experiment.Id, Cancel));
        await using var check = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM exposures"));
        Assert.Equal(1, (await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel))[control.Id].UnattributedEvents);

        // Nor is the unit remembered as exposed: once its row can be read, its exposure is its first.
        await check.ExecuteAsync("DELETE FROM unit_sums");
        Assert.True(await store.RecordExposureAsync(new Exposure(experiment.Id, control.Id, "ann", Now), Cancel));
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM exposures"));
    }

    [Fact]
    public async Task ExposedUnitsReadSql_QueryPlan_SearchesTheExperimentsIndex()
    {
        var store = await database.CreateStoreAsync();
        var (_, experiment) = await SeedAsync(store, store);
        foreach (var unit in Enumerable.Range(0, 50).Select(i => $"unit-{i}"))
            await store.RecordExposureAsync(Exposure(experiment, unit), Cancel);
        await using var connection = await database.Connections.OpenAsync(Cancel);

        // No ANALYZE: with one experiment's rows, statistics rightly make a scan as cheap as the search.
        var plan = await connection.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>(
            "EXPLAIN QUERY PLAN " + ExposedUnits.ReadSql.Replace("?1", "@Id", StringComparison.Ordinal), new { experiment.Id });

        // An experiment's units are read by its range of the index, not by scanning every experiment's exposures.
        Assert.Equal("SEARCH exposures USING INDEX ix_exposures_experiment (experiment_id=?)", Assert.Single(plan).Detail);
    }

    [Fact]
    public async Task RecordEventsAsync_UnitRowUnreadable_StoresNothingOfTheBatch()
    {
        var (store, versions, experiment) = await SeedUnreadableUnitAsync();
        var control = experiment.Control;

        await Assert.ThrowsAsync<InvalidDataException>(() =>
            store.RecordEventsAsync([Event(versions[2], Now), InExperiment(experiment, control, "ann", 20, converted: false)], null, Cancel));

        Assert.Equal(0, (await store.ReadVersionTotalAsync(versions[2], Cancel)).Count);
        Assert.Equal(1, (await store.ReadVersionTotalAsync(control.VersionId, Cancel)).Count);
        Assert.Equal(1, (await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel))[control.Id].UnattributedEvents);
    }

    [Fact]
    public async Task RecordEventsAsync_Event_StoresEveryFieldAsSent()
    {
        var store = await database.CreateStoreAsync();
        var (versions, experiment) = await SeedAsync(store, store);
        var metadata = System.Text.Json.JsonSerializer.SerializeToElement(new { region = "eu", tags = new[] { "a", "ü" } });
        var local = new DateTimeOffset(2025, 6, 7, 8, 9, 10, TimeSpan.FromHours(2)).AddTicks(1_234_567);
        var sent = new MetricEvent("event-1", experiment.Control.VersionId, experiment.Id, experiment.Control.Id, "unit-1", local,
            12.5, 100, 200, 0.0125, 0.75, -1, false, "rate_limited", metadata);

        await store.RecordEventsAsync([sent, Event(versions[2], Now)], null, Cancel);

        await using var connection = await database.Connections.OpenAsync(Cancel);
        var rows = (await connection.QueryAsync(
            "SELECT id, version_id, experiment_id, variant_id, unit_id, timestamp, latency_ms, input_tokens, output_tokens, cost, quality_score, user_feedback, converted, error, metadata FROM metric_events ORDER BY rowid"))
            .Cast<IDictionary<string, object?>>().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal<object?>(
            ["event-1", sent.VersionId, experiment.Id, experiment.Control.Id, "unit-1", "2025-06-07T06:09:10.1234567+00:00",
                12.5, 100L, 200L, 0.0125, 0.75, -1.0, 0L, "rate_limited", metadata.GetRawText()],
            rows[0].Values);
        Assert.Equal<object?>([null, null, null, null, null, null, null], [rows[1]["id"], rows[1]["experiment_id"], rows[1]["variant_id"],
            rows[1]["unit_id"], rows[1]["quality_score"], rows[1]["error"], rows[1]["metadata"]]);
    }

    /// <summary>A store whose unit "ann" has one event for the control and a damaged unit row.</summary>
    private async Task<(SqlitePromptStore Store, IReadOnlyList<string> Versions, Experiment Experiment)> SeedUnreadableUnitAsync()
    {
        var store = await database.CreateStoreAsync();
        var (versions, experiment) = await SeedAsync(store, store);
        await store.RecordEventsAsync([InExperiment(experiment, experiment.Control, "ann", 10, converted: true)], null, Cancel);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        await connection.ExecuteAsync("UPDATE unit_sums SET sums = x'00'");
        return (store, versions, experiment);
    }

    private static async Task<string> ReadAllAsync(IMetricStore store, IReadOnlyList<string> versions, string experimentId)
    {
        var parts = new List<string>();
        foreach (var version in versions)
        {
            var hours = await store.ReadVersionHoursAsync(version, DateTimeOffset.MinValue, Cancel);
            parts.AddRange(hours.Select(h => $"{h.HourStart:O} {Describe(h.Aggregate)}"));
            parts.Add(Describe(await store.ReadVersionTotalAsync(version, Cancel)));
        }
        var variants = await store.ReadVariantUnitStatsAsync(experimentId, Cancel);
        parts.AddRange(variants.OrderBy(v => v.Key).Select(v => $"{v.Key} {Convert.ToHexString(UnitStatisticsCodec.Encode(v.Value))}"));
        return string.Join("\n", parts);
    }

    private static string Describe(MetricAggregate a) => Convert.ToHexString(MetricAggregateCodec.Encode(a)) + " count " + a.Count;
}
