namespace PromptVault.Core.Analysis;

/// <summary>
/// What an experiment's sequential tests remember between looks: the running minimum of each always-valid p-value, so a
/// decision once reached is not taken back (SPEC §3), and the running intersection of each always-valid interval, so
/// it never widens again. Stored with the experiment and updated after every look that the server takes (each metric
/// batch); a read shows min(stored, now) and the intersection of stored and now.
/// </summary>
/// <param name="Values">By <see cref="KeyOf"/> the comparisons' minimum p-values, by <see cref="SrmKey"/> the
/// sample ratio check's; and by <see cref="KeyOf"/> + <see cref="LowSuffix"/> or <see cref="HighSuffix"/> the ends of
/// the comparisons' intersected intervals (one dictionary, so that whatever stores the state keeps all of it).</param>
public sealed record SequentialState(IReadOnlyDictionary<string, double> Values)
{
    public const string SrmKey = "srm";

    /// <summary>Appended to <see cref="KeyOf"/> for the low end of the comparison's intersected always-valid interval.</summary>
    public const string LowSuffix = ":low";

    /// <summary>Appended to <see cref="KeyOf"/> for the high end of the comparison's intersected always-valid interval.</summary>
    public const string HighSuffix = ":high";

    public static SequentialState Empty { get; } = new(new Dictionary<string, double>(StringComparer.Ordinal));

    public static string KeyOf(string variantId, Metrics.MetricName metric) => $"{variantId}:{Names.Of(metric)}";

    /// <summary>
    /// Both states' looks together: the smaller of each minimum p-value and high end, the larger of each low end. What
    /// stores the state merges what it has with what it is given, so two looks racing each other lose nothing.
    /// </summary>
    public SequentialState Merge(SequentialState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var merged = new Dictionary<string, double>(Values, StringComparer.Ordinal);
        foreach (var (key, value) in other.Values)
        {
            merged[key] = !merged.TryGetValue(key, out var mine) ? value
                : key.EndsWith(LowSuffix, StringComparison.Ordinal) ? Math.Max(mine, value)
                : Math.Min(mine, value);
        }
        return new SequentialState(merged);
    }
}
