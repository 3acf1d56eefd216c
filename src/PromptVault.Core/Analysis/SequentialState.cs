namespace PromptVault.Core.Analysis;

/// <summary>
/// What an experiment's sequential tests remember between looks: the running minimum of each always-valid p-value, so a
/// decision once reached is not taken back (SPEC §3), and the running intersection of each always-valid interval, so
/// it never widens again. Stored with the experiment and updated after every look that the server takes (each metric
/// batch); a read shows min(stored, now) and the intersection of stored and now.
/// </summary>
/// <param name="Values">By <see cref="KeyOf"/> the comparisons' minimum p-values, by <see cref="SrmKey"/> the
/// sample ratio check's; and by <see cref="KeyOf"/> + <see cref="LowSuffix"/> or <see cref="HighSuffix"/> the ends of
/// the comparisons' intersected intervals; by <see cref="LooksKey"/> how many looks were stored (one dictionary, so that
/// whatever stores the state keeps all of it).</param>
public sealed record SequentialState(IReadOnlyDictionary<string, double> Values)
{
    public const string SrmKey = "srm";

    /// <summary>Appended to <see cref="KeyOf"/> for the low end of the comparison's intersected always-valid interval.</summary>
    public const string LowSuffix = ":low";

    /// <summary>Appended to <see cref="KeyOf"/> for the high end of the comparison's intersected always-valid interval.</summary>
    public const string HighSuffix = ":high";

    /// <summary>The key of <see cref="Looks"/>: no comparison's key, as those hold a colon.</summary>
    public const string LooksKey = "looks";

    /// <summary>How many looks stored this state, each with its points of the history: what changed in the history since
    /// an earlier read of the state is told by this count alone.</summary>
    public long Looks => Values.TryGetValue(LooksKey, out var looks) ? (long)looks : 0;

    public static SequentialState Empty { get; } = new(new Dictionary<string, double>(StringComparer.Ordinal));

    public static string KeyOf(string variantId, Metrics.MetricName metric) => $"{variantId}:{Names.Of(metric)}";

    /// <summary>
    /// Both states' looks together: the smaller of each minimum p-value, and each interval intersected by
    /// <see cref="Intersect"/> (this state's ends the stored ones, <paramref name="other"/>'s the newer look's). What
    /// stores the state merges what it has with what it is given, so two looks racing each other lose nothing; the merge
    /// counts one look more than this state's <see cref="Looks"/>.
    /// </summary>
    public SequentialState Merge(SequentialState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var merged = new Dictionary<string, double>(Values, StringComparer.Ordinal);
        foreach (var (key, value) in other.Values)
        {
            if (key.EndsWith(HighSuffix, StringComparison.Ordinal) || key == LooksKey)
                continue; // with its low end; counted below
            if (!key.EndsWith(LowSuffix, StringComparison.Ordinal))
            {
                merged[key] = merged.TryGetValue(key, out var mine) ? Math.Min(mine, value) : value;
                continue;
            }
            var highKey = key[..^LowSuffix.Length] + HighSuffix;
            if (!other.Values.TryGetValue(highKey, out var high))
                continue;
            var (low, intersectedHigh) = Values.TryGetValue(key, out var storedLow) && Values.TryGetValue(highKey, out var storedHigh)
                ? Intersect(storedLow, storedHigh, value, high)
                : (value, high);
            (merged[key], merged[highKey]) = (low, intersectedHigh);
        }
        merged[LooksKey] = Looks + 1;
        return new SequentialState(merged);
    }

    /// <summary>
    /// The running intersection of an always-valid interval: the stored one intersected with this look's, or this look's
    /// alone when they do not meet (the plug-in variance or τ moved), so the intersection starts again from it and is
    /// never empty.
    /// </summary>
    public static (double Low, double High) Intersect(double storedLow, double storedHigh, double low, double high) =>
        Math.Max(storedLow, low) <= Math.Min(storedHigh, high) ? (Math.Max(storedLow, low), Math.Min(storedHigh, high)) : (low, high);
}
