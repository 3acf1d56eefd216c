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
    // Each rollup row the group's writes add to: its stored aggregate (read by the write that first names it, so an unreadable
    // row refuses that write alone) with the accepted writes' events merged in.
    private readonly Dictionary<RollupKey, MetricAggregate> rollups = [];
    // Each variant named, with its stored statistics (read by the first write that names it, so an unreadable row refuses
    // that write alone) and its units' changes.
    private readonly Dictionary<(string Experiment, string Variant), VariantChanges> variants = [];
    // The variant the last event named: a batch's events name one variant in all but misuse, so most events find it here
    // and hash only their unit id.
    private VariantChanges? lastVariant;

    // The open write's changes, until its savepoint is released or rolled back.
    private readonly List<UnitChange> touched = [];
    private readonly List<VariantChanges> writeUnattributed = []; // the variant of each event with no unit
    private readonly MetricRollups writeRollups = new();
    private int write;

    /// <summary>True when no batch has been applied in the group so far (nothing folded, nothing read for one).</summary>
    public bool IsEmpty => rollups.Count == 0 && variants.Count == 0;

    /// <summary>Folds a newly stored event of the open write.</summary>
    public void Add(MetricEvent metricEvent)
    {
        writeRollups.Add(metricEvent);
        if (metricEvent is not { ExperimentId: { } experimentId, VariantId: { } variantId })
            return;
        var variant = VariantOf(experimentId, variantId);
        if (metricEvent.UnitId is not { } unitId)
        {
            writeUnattributed.Add(variant);
            return;
        }
        if (!variant.Units.TryGetValue(unitId, out var unit))
        {
            // A unit's events name one variant in all but misuse, so its sums are read once per unit and variant named.
            var stored = context.Prepare(SqlitePromptStore.FindUnitSumsSql).Bind(1, experimentId).Bind(2, unitId).Bind(3, variantId).QueryBlob();
            unit = new UnitChange(stored is null ? default : UnitStatisticsCodec.DecodeUnitSums(stored), context.ExposedVariantOf(experimentId, unitId));
            variant.Units.Add(unitId, unit);
        }
        if (unit.LastWrite != write)
        {
            unit.LastWrite = write;
            unit.BeforeWrite = unit.After;
            touched.Add(unit);
        }
        unit.After = unit.After.Add(metricEvent);
    }

    /// <summary>
    /// Reads the stored rollup rows the open write adds to that the group has not read yet. Called by the write, inside its
    /// savepoint, after its last <see cref="Add"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">A stored row cannot be read: the write is refused, its group-mates are not.</exception>
    public void ReadRollupsOfWrite()
    {
        foreach (var key in writeRollups.Rows.Keys)
        {
            if (!rollups.ContainsKey(key))
                rollups.Add(key, SqlitePromptStore.ReadRollup(context, key) ?? new MetricAggregate());
        }
    }

    /// <summary>The open write's savepoint was released: its changes become the group's.</summary>
    public void Accept()
    {
        foreach (var (key, added) in writeRollups.Rows)
        {
            if (!rollups.TryGetValue(key, out var total))
                throw new InvalidOperationException("A write that adds events reads their rollup rows (ReadRollupsOfWrite) before it is accepted.");
            total.Merge(added);
        }
        foreach (var variant in writeUnattributed)
            variant.UnattributedEvents++;
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
    public void Flush()
    {
        foreach (var (key, total) in rollups)
            SqlitePromptStore.WriteRollup(context, key, total);

        var upsert = context.Prepare(SqlitePromptStore.UpsertUnitSumsSql);
        foreach (var ((experimentId, variantId), variant) in variants)
        {
            var changed = false;
            foreach (var (unitId, unit) in variant.Units)
            {
                if (unit.After.Events == unit.Before.Events)
                    continue; // only rolled-back writes named it
                upsert.Bind(1, experimentId).Bind(2, unitId).Bind(3, variantId).Bind(4, UnitStatisticsCodec.Encode(unit.After)).Execute();
                variant.Stats = unit.Exposed == variantId
                    ? variant.Stats.Replace(unit.Before, unit.After)
                    : variant.Stats.AddUnattributed(unit.After.Events - unit.Before.Events);
                changed = true;
            }
            if (variant.UnattributedEvents > 0)
            {
                variant.Stats = variant.Stats.AddUnattributed(variant.UnattributedEvents);
                changed = true;
            }
            if (changed)
                SqlitePromptStore.WriteVariantUnitStats(context, experimentId, variantId, variant.Stats);
        }
        Clear();
    }

    /// <summary>Forgets everything folded: the group is written or its transaction failed.</summary>
    public void Clear()
    {
        rollups.Clear();
        variants.Clear();
        lastVariant = null;
        EndWrite();
    }

    private void EndWrite()
    {
        touched.Clear();
        writeUnattributed.Clear();
        writeRollups.Rows.Clear(); // the aggregates an accepted write added now belong to the group's rows
        write++;
    }

    private VariantChanges VariantOf(string experimentId, string variantId)
    {
        if (lastVariant is { } last && last.VariantId == variantId && last.ExperimentId == experimentId)
            return last;
        if (!variants.TryGetValue((experimentId, variantId), out var variant))
        {
            variant = new VariantChanges(experimentId, variantId, SqlitePromptStore.ReadVariantUnitStats(context, experimentId, variantId));
            variants.Add((experimentId, variantId), variant);
        }
        return lastVariant = variant;
    }

    /// <summary>A variant's statistics as stored, then as the group changes them, and its units' changes by unit id.</summary>
    private sealed class VariantChanges(string experimentId, string variantId, VariantUnitStats stored)
    {
        public string ExperimentId { get; } = experimentId;
        public string VariantId { get; } = variantId;
        public VariantUnitStats Stats { get; set; } = stored;
        public long UnattributedEvents { get; set; } // in the group's accepted writes
        public Dictionary<string, UnitChange> Units { get; } = new(StringComparer.Ordinal);
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
