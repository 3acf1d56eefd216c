namespace PromptVault.Core.Analysis;

/// <summary>
/// What an experiment's sequential tests remember between looks: the running minimum of each always-valid p-value, so a
/// decision once reached is not taken back (SPEC §3). Keys are <see cref="KeyOf"/> for the target comparisons and
/// <see cref="SrmKey"/> for the sample ratio check. Stored with the experiment and updated after every look that the
/// server takes (each metric batch); a read shows min(stored, now).
/// </summary>
public sealed record SequentialState(IReadOnlyDictionary<string, double> MinimumPValues)
{
    public const string SrmKey = "srm";

    public static SequentialState Empty { get; } = new(new Dictionary<string, double>(StringComparer.Ordinal));

    public static string KeyOf(string variantId, Metrics.MetricName metric) => $"{variantId}:{Names.Of(metric)}";
}
