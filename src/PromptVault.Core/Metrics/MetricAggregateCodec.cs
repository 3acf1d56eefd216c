using PromptVault.Core.Storage;

namespace PromptVault.Core.Metrics;

/// <summary>
/// The stored form of a <see cref="MetricAggregate"/>: a compact binary blob whose first byte is its format, so the format
/// can change later while older blobs stay readable. Encoding is deterministic: equal aggregates give equal bytes.
/// </summary>
/// <remarks>
/// Format 2, in order: the format byte <c>2</c>; <c>Count</c>, <c>Errors</c>, <c>Conversions</c>, <c>ConversionTrials</c> as
/// 7-bit varints; one byte whose bit <c>i</c> is set when moment <c>i</c> (latency, input tokens, output tokens, cost,
/// quality score, user feedback) is not all zero, then for each such moment its count (varint), sum and M2
/// (little-endian IEEE 754 doubles; see <see cref="Moments"/>); the number of non-empty latency buckets (varint), then per bucket, in bucket order,
/// its distance from the previous one (varint; the first counts from −1) and its count (varint); last, the CRC-32 of all
/// the bytes before it (little-endian), so a damaged blob is refused rather than read as other figures.
/// Format 1 was the same with each moment's sum of squares in place of M2; it is still read (converted
/// by <see cref="Moments.FromSums"/>), never written. Pure and thread-safe.
/// </remarks>
public static class MetricAggregateCodec
{
    /// <summary>The format <see cref="Encode"/> writes.</summary>
    public const byte Format = 2;

    private const byte SumsFormat = 1;

    private const int MomentCount = 6;

    /// <exception cref="ArgumentException">The aggregate holds a negative count, which no sequence of events produces.</exception>
    public static byte[] Encode(MetricAggregate aggregate)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        var writer = new SealedBlob.Writer(stackalloc byte[256], Format);
        WriteCount(ref writer, aggregate.Count);
        WriteCount(ref writer, aggregate.Errors);
        WriteCount(ref writer, aggregate.Conversions);
        WriteCount(ref writer, aggregate.ConversionTrials);

        ReadOnlySpan<Moments> moments = MomentsOf(aggregate);
        byte present = 0;
        for (var i = 0; i < moments.Length; i++)
        {
            if (!IsZero(moments[i]))
                present |= (byte)(1 << i);
        }
        writer.WriteByte(present);
        foreach (var moment in moments)
        {
            if (IsZero(moment))
                continue;
            WriteCount(ref writer, moment.Count);
            writer.WriteDouble(moment.Sum);
            writer.WriteDouble(moment.M2);
        }

        var buckets = aggregate.Latencies.NonEmptyBuckets().ToList();
        WriteCount(ref writer, buckets.Count);
        var previous = -1;
        foreach (var (bucket, count) in buckets)
        {
            WriteCount(ref writer, bucket - previous);
            WriteCount(ref writer, count);
            previous = bucket;
        }
        return writer.ToSealedArray();
    }

    /// <exception cref="InvalidDataException">The blob is empty, truncated, damaged, of an unknown format, or holds
    /// figures no aggregate has (a negative count, a bucket out of range or out of order).</exception>
    public static MetricAggregate Decode(byte[] blob)
    {
        var reader = SealedBlob.Open(blob, [SumsFormat, Format], Corrupt, out var format);
        var count = reader.ReadCount();
        var errors = reader.ReadCount();
        var conversions = reader.ReadCount();
        var conversionTrials = reader.ReadCount();

        var present = reader.ReadByte();
        if (present >> MomentCount != 0)
            throw Corrupt($"it marks moments that do not exist (0x{present:x2})");
        Span<Moments> moments = stackalloc Moments[MomentCount];
        for (var i = 0; i < moments.Length; i++)
        {
            if ((present & (1 << i)) != 0)
            {
                var momentCount = reader.ReadCount();
                double first = reader.ReadDouble(), second = reader.ReadDouble();
                moments[i] = format == SumsFormat ? Moments.FromSums(momentCount, first, second) : new Moments(momentCount, first, second);
            }
        }
        var aggregate = MetricAggregate.Restore(count, errors, conversions, conversionTrials,
            moments[0], moments[1], moments[2], moments[3], moments[4], moments[5]);

        var buckets = reader.ReadCount();
        var bucket = -1;
        for (long i = 0; i < buckets; i++)
        {
            var gap = reader.ReadCount();
            var bucketCount = reader.ReadCount();
            if (gap == 0 || gap >= LatencyHistogram.BucketCount - bucket || bucketCount == 0)
                throw Corrupt($"latency bucket {i} lies {gap} after bucket {bucket} with count {bucketCount}; buckets are 0 to {LatencyHistogram.BucketCount - 1}, ascending, non-empty");
            bucket += (int)gap;
            aggregate.Latencies.AddToBucket(bucket, bucketCount);
        }
        reader.EnsureEnd();
        return aggregate;
    }

    // The order of the moments in the blob; never reorder, add a format instead.
    private static Moments[] MomentsOf(MetricAggregate a) =>
        [a.LatencyMs, a.InputTokens, a.OutputTokens, a.Cost, a.QualityScore, a.UserFeedback];

    // Bitwise, so that a sum of -0.0 is written rather than dropped.
    private static bool IsZero(Moments m) =>
        m.Count == 0 && BitConverter.DoubleToInt64Bits(m.Sum) == 0 && BitConverter.DoubleToInt64Bits(m.M2) == 0;

    private static void WriteCount(ref SealedBlob.Writer writer, long value)
    {
        if (value < 0)
            throw new ArgumentException($"A metric aggregate never holds a negative count ({value}).", "aggregate");
        writer.WriteVarint((ulong)value);
    }

    private static InvalidDataException Corrupt(string reason) => new($"The stored metric aggregate is corrupt: {reason}.");
}
