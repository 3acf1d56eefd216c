namespace PromptVault.Core.Storage;

/// <summary>
/// The units whose exposure in an experiment was queued or stored lately, so that a unit's repeat renders write nothing.
/// A fixed number of slots, each holding the last unit hashed to it: memory stays the same whatever the number of units,
/// and a unit pushed out of its slot is only written again (the insert keeps the stored first exposure).
/// </summary>
/// <remarks>Thread-safe without locks: two renders of one new unit at once may both queue it, which the insert absorbs.</remarks>
public sealed class RecentExposures(int slots)
{
    /// <summary>The slots a store keeps: 65,536 (docs/reliability.md).</summary>
    public const int DefaultSlots = 65_536;

    private readonly Unit?[] units = new Unit?[slots];

    /// <summary>
    /// <see cref="IExperimentStore.QueueExposure"/>'s rule: a known unit is a repeat; a new one is handed to <paramref name="tryQueue"/>,
    /// and forgotten again when that refuses it (a full queue), so the unit's next render tries again.
    /// </summary>
    public ExposureQueueOutcome Queue(Exposure exposure, Func<Exposure, bool> tryQueue)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        ArgumentNullException.ThrowIfNull(tryQueue);
        if (!Add(exposure))
            return ExposureQueueOutcome.Repeat;
        if (tryQueue(exposure))
            return ExposureQueueOutcome.Queued;
        Forget([exposure]);
        return ExposureQueueOutcome.Dropped;
    }

    /// <returns>False when the unit was known already.</returns>
    private bool Add(Exposure exposure)
    {
        ref var slot = ref units[Slot(exposure)];
        if (Volatile.Read(ref slot) is { } unit && unit.Is(exposure))
            return false;
        Volatile.Write(ref slot, new Unit(exposure.ExperimentId, exposure.UnitId));
        return true;
    }

    /// <summary>Forgets exposures that were not stored, so their units' next renders queue them again.</summary>
    public void Forget(IReadOnlyList<Exposure> exposures)
    {
        ArgumentNullException.ThrowIfNull(exposures);
        foreach (var exposure in exposures)
        {
            ref var slot = ref units[Slot(exposure)];
            if (Volatile.Read(ref slot) is { } unit && unit.Is(exposure))
                Interlocked.CompareExchange(ref slot, null, unit);
        }
    }

    private int Slot(Exposure exposure) => (int)((uint)HashCode.Combine(exposure.ExperimentId, exposure.UnitId) % (uint)units.Length);

    private sealed record Unit(string ExperimentId, string UnitId)
    {
        public bool Is(Exposure exposure) =>
            string.Equals(UnitId, exposure.UnitId, StringComparison.Ordinal) && string.Equals(ExperimentId, exposure.ExperimentId, StringComparison.Ordinal);
    }
}
