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
    public static byte[] Encode(UnitSums sums) => Seal(writer =>
    {
        WriteCount(writer, sums.Events, nameof(sums));
        WriteCount(writer, sums.Errors, nameof(sums));
        var measures = MeasuresOf(sums);
        var flags = sums.Converted ? 1 : 0;
        for (var i = 0; i < measures.Length; i++)
        {
            if (measures[i].Count != 0)
                flags |= 2 << i;
        }
        writer.Write((byte)flags);
        foreach (var measure in measures.Where(m => m.Count != 0))
        {
            WriteCount(writer, measure.Count, nameof(sums));
            writer.Write(measure.Sum);
        }
    });

    /// <exception cref="ArgumentException">The statistics hold a negative count, which no sequence of events and exposures produces.</exception>
    public static byte[] Encode(VariantUnitStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        return Seal(writer =>
        {
            WriteCount(writer, stats.ConvertedUnits, nameof(stats));
            WriteCount(writer, stats.UnattributedEvents, nameof(stats));
            var ratios = RatiosOf(stats);
            byte present = 0;
            for (var i = 0; i < ratios.Length; i++)
            {
                if (ratios[i].Units != 0)
                    present |= (byte)(1 << i);
            }
            writer.Write(present);
            foreach (var ratio in ratios.Where(r => r.Units != 0))
            {
                WriteCount(writer, ratio.Units, nameof(stats));
                foreach (var value in (ReadOnlySpan<double>)[ratio.Shift, ratio.SumN, ratio.SumS, ratio.SumNN, ratio.SumSS, ratio.SumNS])
                    writer.Write(value);
            }
        });
    }

    /// <exception cref="InvalidDataException">The blob is not a unit-sums blob of a known format, or it is damaged.</exception>
    public static UnitSums DecodeUnitSums(byte[] blob) => Open(blob, "unit sums", reader =>
    {
        var events = ReadCount(reader, "unit sums");
        var errors = ReadCount(reader, "unit sums");
        var flags = reader.ReadByte();
        if (flags >> (MeasureCount + 1) != 0)
            throw Corrupt("unit sums", $"it marks measures that do not exist (0x{flags:x2})");
        var measures = new MeasureSum[MeasureCount];
        for (var i = 0; i < measures.Length; i++)
        {
            if ((flags & (2 << i)) != 0)
                measures[i] = new MeasureSum(ReadCount(reader, "unit sums"), reader.ReadDouble());
        }
        return new UnitSums(events, errors, (flags & 1) != 0, measures[0], measures[1], measures[2], measures[3]);
    });

    /// <exception cref="InvalidDataException">The blob is not a variant-statistics blob of a known format, or it is damaged.</exception>
    public static VariantUnitStats DecodeVariantUnitStats(byte[] blob) => Open(blob, "variant unit statistics", reader =>
    {
        const string what = "variant unit statistics";
        var converted = ReadCount(reader, what);
        var unattributed = ReadCount(reader, what);
        var present = reader.ReadByte();
        if (present >> RatioCount != 0)
            throw Corrupt(what, $"it marks metrics that do not exist (0x{present:x2})");
        var ratios = new RatioMoments[RatioCount];
        for (var i = 0; i < ratios.Length; i++)
        {
            if ((present & (1 << i)) != 0)
            {
                ratios[i] = new RatioMoments(ReadCount(reader, what),
                    reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());
            }
        }
        return new VariantUnitStats
        {
            ConvertedUnits = converted, UnattributedEvents = unattributed,
            ErrorRate = ratios[0], LatencyMs = ratios[1], Cost = ratios[2], QualityScore = ratios[3], UserFeedback = ratios[4],
        };
    });

    // The order of the measures and ratio metrics in the blobs; never reorder, add a format instead.
    private static MeasureSum[] MeasuresOf(UnitSums s) => [s.LatencyMs, s.Cost, s.QualityScore, s.UserFeedback];

    private static RatioMoments[] RatiosOf(VariantUnitStats s) => [s.ErrorRate, s.LatencyMs, s.Cost, s.QualityScore, s.UserFeedback];

    private static byte[] Seal(Action<BinaryWriter> write) => SealedBlob.Seal(Format, write);

    private static T Open<T>(byte[] blob, string what, Func<BinaryReader, T> read) =>
        SealedBlob.Open(blob, [Format], (reason, inner) => Corrupt(what, reason, inner), (reader, _) => read(reader));

    private static void WriteCount(BinaryWriter writer, long value, string parameter)
    {
        if (value < 0)
            throw new ArgumentException($"Unit statistics never hold a negative count ({value}).", parameter);
        writer.Write7BitEncodedInt64(value);
    }

    private static long ReadCount(BinaryReader reader, string what)
    {
        var value = reader.Read7BitEncodedInt64();
        return value >= 0 ? value : throw Corrupt(what, $"it holds a negative count ({value})");
    }

    private static InvalidDataException Corrupt(string what, string reason, Exception? inner = null) =>
        new($"The stored {what} are corrupt: {reason}.", inner);
}
