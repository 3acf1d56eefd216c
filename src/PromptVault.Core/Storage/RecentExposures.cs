using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace PromptVault.Core.Storage;

/// <summary>
/// The units whose exposure in an experiment was queued or stored lately, so that a unit's repeat renders write nothing.
/// A fixed number of slots, each holding a 64-bit fingerprint of the last unit hashed to it: memory stays the same whatever
/// the number of units, and a unit pushed out of its slot is only written again (the insert keeps the stored first exposure).
/// </summary>
/// <remarks>
/// <para>Thread-safe without locks: two renders of one new unit at once may both queue it, which the insert absorbs.</para>
/// <para>
/// Fingerprints, not the units' ids: slots holding references would keep every recent unit's strings alive long enough to be
/// promoted into the old generation, only to die there when the slot is reused, and each render's write into the (large,
/// old) array would be a card the next young collection must scan: the experiment render's GC pauses. A fingerprint is 64
/// bits of a 128-bit XXH3 hash of the experiment and unit ids, the slot the other bits, so two units are taken for each
/// other only if they hash to one slot and their fingerprints agree: a chance of 1 in 2^64 a render, which would record
/// that unit's first exposure at its next render instead.
/// </para>
/// </remarks>
public sealed class RecentExposures(int slots)
{
    /// <summary>The slots a store keeps: 65,536 (docs/reliability.md).</summary>
    public const int DefaultSlots = 65_536;

    private const ulong Empty = 0;

    private readonly ulong[] fingerprints = new ulong[slots];

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

    /// <summary>Remembers the exposure's unit.</summary>
    /// <returns>False when the unit was known already.</returns>
    public bool Add(Exposure exposure)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        var (slot, fingerprint) = Locate(exposure);
        ref var stored = ref fingerprints[slot];
        if (Volatile.Read(ref stored) == fingerprint)
            return false;
        Volatile.Write(ref stored, fingerprint);
        return true;
    }

    /// <summary>Forgets exposures that were not stored, so their units' next renders queue them again.</summary>
    public void Forget(IReadOnlyList<Exposure> exposures)
    {
        ArgumentNullException.ThrowIfNull(exposures);
        foreach (var exposure in exposures)
        {
            var (slot, fingerprint) = Locate(exposure);
            Interlocked.CompareExchange(ref fingerprints[slot], Empty, fingerprint);
        }
    }

    private (int Slot, ulong Fingerprint) Locate(Exposure exposure)
    {
        // The unit id's hash seeded with the experiment id's: no buffer to join them into.
        var experimentSeed = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(exposure.ExperimentId.AsSpan()));
        var hash = XxHash128.HashToUInt128(MemoryMarshal.AsBytes(exposure.UnitId.AsSpan()), unchecked((long)experimentSeed));
        var fingerprint = (ulong)hash;
        return ((int)((ulong)(hash >> 64) % (uint)fingerprints.Length), fingerprint == Empty ? 1 : fingerprint);
    }
}
