using PromptVault.Core.Analysis;
using PromptVault.Core.Metrics;

namespace PromptVault.Storage.Sqlite;

/// <summary>
/// What a group's event batches change in the tables derived from events (version rollups, unit sums, variant unit
/// statistics), folded in memory across the whole group and written once, just before its commit. Under load a group
/// holds several batches naming the same units; each unit row is then read and written once per group, not per batch.
/// </summary>
/// <remarks>
/// A batch's changes join the group's when its savepoint is released (<see cref="Accept"/>) and are undone when it is
/// rolled back (<see cref="Reject"/>). Nothing reads these tables in the writer's transaction between a batch and the
/// commit: a group applies its exposures, the only other writes that read them, before its batches.
/// </remarks>
internal sealed class DeferredAnalysis(SqliteWriteContext context)
{
    private readonly Dictionary<(string Experiment, string Unit, string Variant), UnitChange> units = [];
    private readonly Dictionary<(string Experiment, string Variant), long> unattributed = [];
    private readonly Dictionary<RollupKey, MetricAggregate> rollups = [];
    // Each variant's stored statistics, read by the first write that names it, so an unreadable row refuses that write alone.
    private readonly Dictionary<(string Experiment, string Variant), VariantUnitStats> variants = [];

    // The open write's changes, until its savepoint is released or rolled back.
    private readonly List<UnitChange> touched = [];
    private readonly List<((string Experiment, string Variant) Variant, long Events)> writeUnattributed = [];
    private readonly MetricRollups writeRollups = new();
    private int write;

    /// <summary>True when no batch has been applied in the group so far (nothing folded, nothing read for one).</summary>
    public bool IsEmpty => units.Count == 0 && unattributed.Count == 0 && rollups.Count == 0 && variants.Count == 0;

    /// <summary>Folds a newly stored event of the open write.</summary>
    public void Add(MetricEvent metricEvent)
    {
        writeRollups.Add(metricEvent);
        if (metricEvent is not { ExperimentId: { } experimentId, VariantId: { } variantId })
            return;
        if (!variants.ContainsKey((experimentId, variantId)))
            variants.Add((experimentId, variantId), SqlitePromptStore.ReadVariantUnitStats(context, experimentId, variantId));
        if (metricEvent.UnitId is not { } unitId)
        {
            writeUnattributed.Add(((experimentId, variantId), 1));
            return;
        }
        var key = (experimentId, unitId, variantId);
        if (!units.TryGetValue(key, out var unit))
        {
            // A unit's events name one variant in all but misuse, so its sums are read once per unit and variant named.
            var stored = context.Prepare(SqlitePromptStore.FindUnitSumsSql).Bind(1, experimentId).Bind(2, unitId).Bind(3, variantId).QueryBlob();
            unit = new UnitChange(stored is null ? default : UnitStatisticsCodec.DecodeUnitSums(stored), context.ExposedVariantOf(experimentId, unitId));
            units.Add(key, unit);
        }
        if (unit.LastWrite != write)
        {
            unit.LastWrite = write;
            unit.BeforeWrite = unit.After;
            touched.Add(unit);
        }
        unit.After = unit.After.Add(metricEvent);
    }

    /// <summary>The open write's savepoint was released: its changes become the group's.</summary>
    public void Accept()
    {
        foreach (var (key, added) in writeRollups.Rows)
        {
            if (rollups.TryGetValue(key, out var total))
                total.Merge(added);
            else
                rollups.Add(key, added);
        }
        foreach (var (variant, events) in writeUnattributed)
            unattributed[variant] = unattributed.GetValueOrDefault(variant) + events;
        EndWrite();
    }

    /// <summary>The open write was rolled back: its changes are undone.</summary>
    public void Reject()
    {
        foreach (var unit in touched)
            unit.After = unit.BeforeWrite;
        EndWrite();
    }

    /// <summary>Writes the group's changes: each rollup row, unit row and variant row once.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        foreach (var (key, added) in rollups)
            await SqlitePromptStore.FoldIntoRollupAsync(context.Connection, context.Transaction, key, added, cancellationToken);

        var changed = new HashSet<(string Experiment, string Variant)>();
        var upsert = context.Prepare(SqlitePromptStore.UpsertUnitSumsSql);
        foreach (var ((experimentId, unitId, variantId), unit) in units)
        {
            if (unit.After.Events == unit.Before.Events)
                continue; // only rolled-back writes named it
            upsert.Bind(1, experimentId).Bind(2, unitId).Bind(3, variantId).Bind(4, UnitStatisticsCodec.Encode(unit.After)).Execute();
            var stats = variants[(experimentId, variantId)];
            variants[(experimentId, variantId)] = unit.Exposed == variantId
                ? stats.Replace(unit.Before, unit.After)
                : stats.AddUnattributed(unit.After.Events - unit.Before.Events);
            changed.Add((experimentId, variantId));
        }
        foreach (var (variant, events) in unattributed)
        {
            variants[variant] = variants[variant].AddUnattributed(events);
            changed.Add(variant);
        }
        foreach (var (experimentId, variantId) in changed)
            SqlitePromptStore.WriteVariantUnitStats(context, experimentId, variantId, variants[(experimentId, variantId)]);
        Clear();
    }

    /// <summary>Forgets everything folded: the group is written or its transaction failed.</summary>
    public void Clear()
    {
        units.Clear();
        unattributed.Clear();
        rollups.Clear();
        variants.Clear();
        EndWrite();
    }

    private void EndWrite()
    {
        touched.Clear();
        writeUnattributed.Clear();
        writeRollups.Rows.Clear(); // the aggregates an accepted write added now belong to the group's rows
        write++;
    }

    /// <summary>A unit's sums as stored before the group, after the group's events so far, and the variant it was exposed to (null: none).</summary>
    private sealed class UnitChange(UnitSums before, string? exposed)
    {
        public UnitSums Before { get; } = before;
        public UnitSums After { get; set; } = before;
        public string? Exposed { get; } = exposed;

        /// <summary>The last write that changed it, and its sums before that write (restored when the write is rolled back).</summary>
        public int LastWrite { get; set; } = -1;
        public UnitSums BeforeWrite { get; set; }
    }
}
