using System.IO.Hashing;

namespace PromptVault.Core.Experiments;

/// <summary>
/// Deterministic assignment of units to variants (SPEC §3, published in <c>docs/assignment.md</c>), version 1:
/// <c>bucket = XxHash3-64(UTF-8(unitId), seed: hashSeed) mod 10,000</c>, and the unit's variant is the first whose
/// cumulative weight, in buckets (percent × 100), exceeds the bucket. Pure and stateless: the server, the SDK and any
/// other implementation of the document agree on every unit without sharing state.
/// </summary>
public static class Assignment
{
    /// <summary>The algorithm's version, published with the snapshot so that clients can refuse one they do not know.</summary>
    public const int AlgorithmVersion = 1;

    public const int Buckets = 10_000;

    /// <summary>The longest unit id accepted, in characters.</summary>
    public const int MaxUnitIdLength = 256;

    /// <summary>The unit's bucket in <c>[0, 10,000)</c>.</summary>
    public static int Bucket(ulong hashSeed, ReadOnlySpan<char> unitId) =>
        (int)(UnitIdUtf8.Read(unitId, unchecked((long)hashSeed), static (utf8, seed) => XxHash3.HashToUInt64(utf8, seed)) % Buckets);

    /// <summary>The index of the unit's variant, given each variant's end bucket from <see cref="BucketEnds"/>.</summary>
    public static int VariantIndex(ulong hashSeed, ReadOnlySpan<char> unitId, ReadOnlySpan<int> bucketEnds)
    {
        var bucket = Bucket(hashSeed, unitId);
        for (var i = 0; i < bucketEnds.Length; i++)
        {
            if (bucket < bucketEnds[i])
                return i;
        }
        return bucketEnds.Length - 1;
    }

    /// <summary>The cumulative bucket at which each variant ends: weights 50/25/25 give 5000, 7500, 10000.</summary>
    public static int[] BucketEnds(IReadOnlyList<decimal> weights)
    {
        var ends = new int[weights.Count];
        var cumulative = 0m;
        for (var i = 0; i < ends.Length; i++)
        {
            cumulative += weights[i];
            ends[i] = EndBucket(cumulative);
        }
        return ends;
    }

    /// <summary>The experiment's variant for <paramref name="unitId"/>.</summary>
    public static Variant VariantFor(Experiment experiment, string unitId)
    {
        // The bucket ends walked in place: this runs on every render in an experiment, so it allocates nothing.
        var bucket = Bucket(experiment.HashSeed, unitId);
        var variants = experiment.Variants;
        var cumulative = 0m;
        for (var i = 0; i < variants.Count - 1; i++)
        {
            cumulative += variants[i].Weight;
            if (bucket < EndBucket(cumulative))
                return variants[i];
        }
        return variants[^1];
    }

    /// <summary>The bucket at which a cumulative weight (percent) ends.</summary>
    private static int EndBucket(decimal cumulativeWeight) => (int)Math.Round(cumulativeWeight * (Buckets / 100), MidpointRounding.ToZero);
}
