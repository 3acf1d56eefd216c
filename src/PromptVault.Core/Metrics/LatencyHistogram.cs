namespace PromptVault.Core.Metrics;

/// <summary>
/// A mergeable histogram of non-negative values with logarithmic buckets (1% relative accuracy, the DDSketch layout):
/// the quantiles of any number of values from a fixed, small amount of memory. Values below 0.01 share one bucket.
/// </summary>
/// <remarks>
/// HdrHistogram was the library candidate, but it records integers only and preallocates every bucket of its range
/// (tens of KB each); one of these is kept per version, variant and hour, and stored as a few hundred bytes.
/// </remarks>
public sealed class LatencyHistogram
{
    public const double RelativeAccuracy = 0.01;
    private const double Gamma = (1 + RelativeAccuracy) / (1 - RelativeAccuracy);
    private const double MinValue = 0.01;
    private static readonly double LogGamma = Math.Log(Gamma);

    /// <summary>Buckets up to ~1.4e10; larger values share the last one.</summary>
    public const int BucketCount = 1_400;

    private long[]? _counts;

    public long Count { get; private set; }

    /// <summary>The bucket of <paramref name="value"/>: 0 for values below 0.01, then ⌈log_γ(value / 0.01)⌉ + 1.</summary>
    public static int BucketOf(double value)
    {
        if (!(value >= MinValue))
            return 0;
        var index = (int)Math.Ceiling(Math.Log(value / MinValue) / LogGamma) + 1;
        return Math.Min(index, BucketCount - 1);
    }

    /// <summary>The value a bucket stands for: the midpoint (in relative terms) of its range.</summary>
    public static double ValueOf(int bucket) =>
        bucket == 0 ? 0 : MinValue * Math.Pow(Gamma, bucket - 1) * 2 / (Gamma + 1);

    public void Add(double value) => AddToBucket(BucketOf(value), 1);

    public void AddToBucket(int bucket, long count)
    {
        if ((uint)bucket >= BucketCount)
            throw new ArgumentOutOfRangeException(nameof(bucket), bucket, $"a bucket is between 0 and {BucketCount - 1}.");
        _counts ??= new long[BucketCount];
        _counts[bucket] += count;
        Count += count;
    }

    public void Merge(LatencyHistogram other)
    {
        if (other._counts is null)
            return;
        _counts ??= new long[BucketCount];
        for (var i = 0; i < BucketCount; i++)
            _counts[i] += other._counts[i];
        Count += other.Count;
    }

    /// <summary>
    /// The <paramref name="quantile"/> (0..1) within 1% relative error, by nearest rank: the ⌈q·n⌉-th smallest value, so at
    /// least a fraction q of the values are at most it (the p95 of 640 and 820 is 820, not 640); NaN when empty.
    /// </summary>
    public double Quantile(double quantile)
    {
        if (_counts is null || Count == 0)
            return double.NaN;
        var rank = Math.Max(1, (long)Math.Ceiling(quantile * Count));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
                return ValueOf(i);
        }
        return ValueOf(BucketCount - 1);
    }

    /// <summary>The non-empty buckets and their counts, in bucket order (the stored form).</summary>
    public IEnumerable<(int Bucket, long Count)> NonEmptyBuckets()
    {
        if (_counts is null)
            yield break;
        for (var i = 0; i < BucketCount; i++)
        {
            if (_counts[i] != 0)
                yield return (i, _counts[i]);
        }
    }
}
