using System.IO.Hashing;
using System.Text;
using PromptVault.Core.Experiments;
using PromptVault.Core.Storage;
using SQLitePCL;

namespace PromptVault.Storage.Sqlite;

/// <summary>
/// The writer's index of stored exposures: for each experiment it has touched, every exposed unit and its variant. It keeps
/// a unit's first exposure the only one, which the <c>exposures</c> table, appended with no key, does not (migration 012),
/// and answers an event's question of which variant its unit was exposed to.
/// </summary>
/// <remarks>
/// <para>
/// Used on the writer's thread only, so it takes no locks. An experiment's units are read from the table the first time a
/// write asks about it, inside the group's transaction: 36–72 bytes a unit, by the dictionary's layout (docs/benchmarks.md,
/// stops 29, 30), and under 1 µs a unit to read. A unit is held as a 128-bit XXH3 hash of its id's UTF-8, so two units are taken for
/// one only at a chance of about n²/2^129.
/// </para>
/// <para>
/// Memory is bounded by what is in use: while the index holds more units than its budget, experiments no write has asked
/// about for <see cref="IdleBeforeForgetting"/> are forgotten, least recently used first, and read again if a write asks
/// later (a late event, a restarted experiment). An experiment in use is kept whatever its size, so a running experiment
/// is never read again while it runs.
/// </para>
/// <para>
/// Its changes follow the group's transaction: a write's are undone when its savepoint is rolled back
/// (<see cref="RejectWrite"/>), and a group that fails forgets every experiment (<see cref="Reset"/>), to be read again
/// from what was committed. Each transaction of a group (a group whose render exposures fail begins a second one) first
/// checks the table's last row against the one its last commit left: rows added by anyone else (an import, another
/// process on the file) make it read the table again.
/// </para>
/// </remarks>
internal sealed class ExposedUnits(TimeProvider time, long unitBudget = ExposedUnits.DefaultUnitBudget)
{
    /// <summary>Units held (about 70–140 MB) above which idle experiments are forgotten.</summary>
    internal const long DefaultUnitBudget = 2_000_000;

    /// <summary>How long an experiment goes unasked before it may be forgotten.</summary>
    internal static readonly TimeSpan IdleBeforeForgetting = TimeSpan.FromMinutes(1);

    // In the order stored, so that were a unit stored twice (by another writer), its first exposure is the one kept.
    internal const string ReadSql = "SELECT unit_id, variant_id FROM exposures WHERE experiment_id = ?1 ORDER BY rowid";
    private const string LastRowSql = "SELECT max(rowid) FROM exposures";
    private const int MaxSizingHint = 1 << 26;
    private const string CountSql = "SELECT coalesce(sum(units), 0) FROM exposure_counts WHERE experiment_id = ?1";

    private readonly Dictionary<string, ExperimentUnits> experiments = new(StringComparer.Ordinal);
    private readonly List<(ExperimentUnits Experiment, UnitKey Unit)> writeAdded = [];
    private readonly List<string> writeRead = [];

    // The last exposure row when this index last agreed with the table (null: unknown), and the one its group is writing.
    private long? committedLastRow;
    private long? groupLastRow;
    private long groupStarted; // the group's timestamp, each experiment's last use
    private long committedUnits; // read by telemetry from other threads

    /// <summary>How many units the index held at the last commit; safe to read from any thread.</summary>
    public long CommittedUnits => Volatile.Read(ref committedUnits);

    /// <summary>How many experiments' units are held, and how many units in all.</summary>
    public (int Experiments, long Units) Held => (experiments.Count, HeldUnits());

    /// <summary>
    /// Starts a group's transaction: when the table holds exposures that this writer did not add (another process on
    /// the file, an import), the index is read again rather than trusted.
    /// </summary>
    public void BeginGroup(SqliteWriteContext context)
    {
        var lastRow = LastRow(context);
        if (lastRow != committedLastRow) Reset();
        committedLastRow = groupLastRow = lastRow;
        groupStarted = time.GetTimestamp();
        ForgetIdleOverBudget();
    }

    /// <summary>The group's writes are done, just before its commit.</summary>
    public void EndGroup(SqliteWriteContext context) => groupLastRow = LastRow(context);

    /// <summary>The group committed: the index agrees with the table up to its last row.</summary>
    public void GroupCommitted()
    {
        committedLastRow = groupLastRow;
        Volatile.Write(ref committedUnits, HeldUnits());
    }

    /// <summary>The variant <paramref name="unitId"/> was exposed to in the experiment, or null when it was not.</summary>
    public string? VariantOf(SqliteWriteContext context, string experimentId, string unitId) =>
        UnitsOf(context, experimentId).VariantOf(UnitKey.Of(unitId));

    /// <summary>Records the exposure's unit as exposed, unless it was already.</summary>
    /// <returns>True when this is the unit's first exposure in the experiment.</returns>
    public bool TryAdd(SqliteWriteContext context, Exposure exposure)
    {
        var experiment = UnitsOf(context, exposure.ExperimentId);
        var unit = UnitKey.Of(exposure.UnitId);
        if (!experiment.TryAdd(unit, exposure.VariantId)) return false;
        writeAdded.Add((experiment, unit));
        return true;
    }

    /// <summary>The write's savepoint was released: its units stay.</summary>
    public void AcceptWrite()
    {
        writeAdded.Clear();
        writeRead.Clear();
    }

    /// <summary>
    /// The write's savepoint was rolled back: its units were not stored. An experiment it read with no units is forgotten
    /// too, since a write refused for naming an experiment that does not exist would otherwise leave an empty one behind.
    /// </summary>
    public void RejectWrite()
    {
        foreach (var (experiment, unit) in writeAdded)
            experiment.Units.Remove(unit);
        foreach (var experimentId in writeRead)
        {
            if (experiments[experimentId].Units.Count == 0) experiments.Remove(experimentId);
        }
        writeAdded.Clear();
        writeRead.Clear();
    }

    /// <summary>Forgets every experiment: what it held may not be what is committed.</summary>
    public void Reset()
    {
        experiments.Clear();
        writeAdded.Clear();
        writeRead.Clear();
        committedLastRow = groupLastRow = null;
    }

    private void ForgetIdleOverBudget()
    {
        var held = HeldUnits();
        if (held <= unitBudget) return;
        foreach (var (experimentId, experiment) in experiments.OrderBy(e => e.Value.LastUsed).ToList())
        {
            if (held <= unitBudget || time.GetElapsedTime(experiment.LastUsed, groupStarted) < IdleBeforeForgetting) return;
            experiments.Remove(experimentId);
            held -= experiment.Units.Count;
        }
    }

    private long HeldUnits()
    {
        var units = 0L;
        foreach (var experiment in experiments.Values)
            units += experiment.Units.Count;
        return units;
    }

    private static long? LastRow(SqliteWriteContext context) =>
        context.Prepare(LastRowSql).QueryRow(static row => raw.sqlite3_column_type(row, 0) == raw.SQLITE_NULL ? (long?)null : raw.sqlite3_column_int64(row, 0));

    private ExperimentUnits UnitsOf(SqliteWriteContext context, string experimentId)
    {
        if (experiments.TryGetValue(experimentId, out var experiment))
        {
            experiment.LastUsed = groupStarted;
            return experiment;
        }
        experiment = new ExperimentUnits { LastUsed = groupStarted };
        // Sized once from the counts kept beside the table (only a hint: a wrong count costs a resize, never a refusal), and
        // read as the stored UTF-8 with no string a row.
        var counted = context.Prepare(CountSql).Bind(1, experimentId).QueryRow(static row => raw.sqlite3_column_int64(row, 0));
        experiment.Units.EnsureCapacity((int)Math.Clamp(counted, 0, MaxSizingHint));
        context.Prepare(ReadSql).Bind(1, experimentId).ForEachRow(row =>
            experiment.TryAdd(UnitKey.OfUtf8(raw.sqlite3_column_blob(row, 0)), raw.sqlite3_column_blob(row, 1)));
        experiments.Add(experimentId, experiment);
        writeRead.Add(experimentId);
        return experiment;
    }

    /// <summary>
    /// One experiment's units, each with its variant's index in <see cref="variants"/>: entries holding no reference, so that
    /// the collector neither scans the (large, old) table nor marks a card for each unit added to it.
    /// </summary>
    private sealed class ExperimentUnits
    {
        private readonly List<string> variants = [];
        private readonly List<byte[]> variantsUtf8 = [];

        public Dictionary<UnitKey, byte> Units { get; } = [];

        public long LastUsed { get; set; }

        public string? VariantOf(UnitKey unit) => Units.TryGetValue(unit, out var variant) ? variants[variant] : null;

        public bool TryAdd(UnitKey unit, string variantId)
        {
            var variant = variants.IndexOf(variantId);
            return Units.TryAdd(unit, variant < 0 ? AddVariant(variantId) : (byte)variant);
        }

        public bool TryAdd(UnitKey unit, ReadOnlySpan<byte> variantIdUtf8)
        {
            for (var variant = 0; variant < variantsUtf8.Count; variant++)
            {
                if (variantIdUtf8.SequenceEqual(variantsUtf8[variant])) return Units.TryAdd(unit, (byte)variant);
            }
            return Units.TryAdd(unit, AddVariant(Encoding.UTF8.GetString(variantIdUtf8)));
        }

        // An experiment has at most ExperimentRules.MaxVariants (20) variants, so their indexes fit a byte.
        private byte AddVariant(string variantId)
        {
            variants.Add(variantId);
            variantsUtf8.Add(Encoding.UTF8.GetBytes(variantId));
            return checked((byte)(variants.Count - 1));
        }
    }

    // Two longs, not UInt128, whose 16-byte alignment would pad every dictionary entry.
    private readonly record struct UnitKey(ulong High, ulong Low)
    {
        /// <summary>The key of a unit id as the table stores it: its UTF-8, encoded as statements bind it.</summary>
        public static UnitKey Of(string unitId) => UnitIdUtf8.Read(unitId, 0, static (utf8, _) => OfUtf8(utf8));

        public static UnitKey OfUtf8(ReadOnlySpan<byte> unitId)
        {
            var hash = XxHash128.HashToUInt128(unitId);
            return new UnitKey((ulong)(hash >> 64), (ulong)hash);
        }
    }
}
