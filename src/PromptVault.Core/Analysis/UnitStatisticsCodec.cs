using PromptVault.Core.Storage;

namespace PromptVault.Core.Analysis;

/// <summary>
/// The stored forms of <see cref="UnitSums"/> (one row per unit and variant, so it is kept small) and
/// <see cref="VariantUnitStats"/>: binary blobs whose first byte is their format, ending in the CRC-32 of the bytes
/// before it, so a damaged blob is refused rather than read as other figures. Deterministic, pure and thread-safe.
/// </summary>
/// <remarks>
/// Unit sums, format 1: the format byte; <c>Events</c> and <c>Errors</c> as 7-bit varints; a flags byte (bit 0
/// converted, bits 1–4 latency, cost, quality score, user feedback present); per present measure its count (varint)
/// and sum (little-endian IEEE 754 double). Variant statistics, format 1: the format byte; <c>ConvertedUnits</c> and
/// <c>UnattributedEvents</c> (varints); a byte whose bit <c>i</c> is set when ratio metric <c>i</c> (error rate,
/// latency, cost, quality score, user feedback) has units; per such metric its units (varint) and shift, Σn, Σs, Σn²,
/// Σs², Σns (doubles).
/// </remarks>
public static class UnitStatisticsCodec
{
    /// <summary>The format both encoders write.</summary>
    public const byte Format = 1;

    private const int MeasureCount = 4;
    private const int RatioCount = 5;

    /// <exception cref="ArgumentException">The sums hold a negative count, which no sequence of events produces.</exception>
    public static byte[] Encode(UnitSums sums)
    {
        var writer = new SealedBlob.Writer(stackalloc byte[128], Format);
        WriteCount(ref writer, sums.Events, nameof(sums));
        WriteCount(ref writer, sums.Errors, nameof(sums));
        ReadOnlySpan<MeasureSum> measures = [sums.LatencyMs, sums.Cost, sums.QualityScore, sums.UserFeedback];
        var flags = sums.Converted ? 1 : 0;
        for (var i = 0; i < measures.Length; i++)
        {
            if (measures[i].Count != 0)
                flags |= 2 << i;
        }
        writer.WriteByte((byte)flags);
        foreach (var measure in measures)
        {
            if (measure.Count == 0)
                continue;
            WriteCount(ref writer, measure.Count, nameof(sums));
            writer.WriteDouble(measure.Sum);
        }
        return writer.ToSealedArray();
    }

    /// <exception cref="ArgumentException">The statistics hold a negative count, which no sequence of events and exposures produces.</exception>
    public static byte[] Encode(VariantUnitStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var writer = new SealedBlob.Writer(stackalloc byte[512], Format);
        WriteCount(ref writer, stats.ConvertedUnits, nameof(stats));
        WriteCount(ref writer, stats.UnattributedEvents, nameof(stats));
        ReadOnlySpan<RatioMoments> ratios = [stats.ErrorRate, stats.LatencyMs, stats.Cost, stats.QualityScore, stats.UserFeedback];
        byte present = 0;
        for (var i = 0; i < ratios.Length; i++)
        {
            if (ratios[i].Units != 0)
                present |= (byte)(1 << i);
        }
        writer.WriteByte(present);
        foreach (var ratio in ratios)
        {
            if (ratio.Units == 0)
                continue;
            WriteCount(ref writer, ratio.Units, nameof(stats));
            foreach (var value in (ReadOnlySpan<double>)[ratio.Shift, ratio.SumN, ratio.SumS, ratio.SumNN, ratio.SumSS, ratio.SumNS])
                writer.WriteDouble(value);
        }
        return writer.ToSealedArray();
    }

    /// <exception cref="InvalidDataException">The blob is not a unit-sums blob of a known format, or it is damaged.</exception>
    public static UnitSums DecodeUnitSums(byte[] blob)
    {
        var reader = SealedBlob.Open(blob, [Format], CorruptUnitSums, out _);
        var events = reader.ReadCount();
        var errors = reader.ReadCount();
        var flags = reader.ReadByte();
        if (flags >> (MeasureCount + 1) != 0)
            throw CorruptUnitSums($"it marks measures that do not exist (0x{flags:x2})");
        Span<MeasureSum> measures = stackalloc MeasureSum[MeasureCount];
        for (var i = 0; i < measures.Length; i++)
        {
            if ((flags & (2 << i)) != 0)
                measures[i] = new MeasureSum(reader.ReadCount(), reader.ReadDouble());
        }
        reader.EnsureEnd();
        return new UnitSums(events, errors, (flags & 1) != 0, measures[0], measures[1], measures[2], measures[3]);
    }

    /// <exception cref="InvalidDataException">The blob is not a variant-statistics blob of a known format, or it is damaged.</exception>
    public static VariantUnitStats DecodeVariantUnitStats(byte[] blob)
    {
        var reader = SealedBlob.Open(blob, [Format], CorruptVariantStats, out _);
        var converted = reader.ReadCount();
        var unattributed = reader.ReadCount();
        var present = reader.ReadByte();
        if (present >> RatioCount != 0)
            throw CorruptVariantStats($"it marks metrics that do not exist (0x{present:x2})");
        Span<RatioMoments> ratios = stackalloc RatioMoments[RatioCount];
        for (var i = 0; i < ratios.Length; i++)
        {
            if ((present & (1 << i)) != 0)
            {
                ratios[i] = new RatioMoments(reader.ReadCount(),
                    reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());
            }
        }
        reader.EnsureEnd();
        return new VariantUnitStats
        {
            ConvertedUnits = converted, UnattributedEvents = unattributed,
            ErrorRate = ratios[0], LatencyMs = ratios[1], Cost = ratios[2], QualityScore = ratios[3], UserFeedback = ratios[4],
        };
    }

    // The measures' and ratio metrics' order in the blobs is the order of the spans above; never reorder, add a format instead.

    private static void WriteCount(ref SealedBlob.Writer writer, long value, string parameter)
    {
        if (value < 0)
            throw new ArgumentException($"Unit statistics never hold a negative count ({value}).", parameter);
        writer.WriteVarint((ulong)value);
    }

    private static InvalidDataException CorruptUnitSums(string reason) => new($"The stored unit sums are corrupt: {reason}.");

    private static InvalidDataException CorruptVariantStats(string reason) => new($"The stored variant unit statistics are corrupt: {reason}.");
}
