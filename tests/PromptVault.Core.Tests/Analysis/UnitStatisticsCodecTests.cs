using PromptVault.Core.Analysis;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Tests.Analysis;

public sealed class UnitStatisticsCodecTests
{
    [Fact]
    public void DecodeUnitSums_EncodedSums_RoundTripExactly()
    {
        var random = new Random(3);
        for (var unit = 0; unit < 200; unit++)
        {
            var sums = default(UnitSums);
            for (var k = random.Next(0, 6); k > 0; k--)
                sums = sums.Add(RandomEvent(random));

            var decoded = UnitStatisticsCodec.DecodeUnitSums(UnitStatisticsCodec.Encode(sums));

            Assert.Equal(sums, decoded);
        }
    }

    [Fact]
    public void DecodeVariantUnitStats_EncodedStats_RoundTripExactly()
    {
        var random = new Random(5);
        var stats = new VariantUnitStats();
        for (var unit = 0; unit < 300; unit++)
        {
            var before = default(UnitSums);
            var after = before;
            for (var k = random.Next(1, 4); k > 0; k--)
                after = after.Add(RandomEvent(random));
            stats = random.Next(5) == 0 ? stats.AddUnattributed(after.Events) : stats.Replace(before, after);

            var decoded = UnitStatisticsCodec.DecodeVariantUnitStats(UnitStatisticsCodec.Encode(stats));

            Assert.Equal(stats, decoded);
        }
        Assert.InRange(stats.UnattributedEvents, 1, long.MaxValue);
        Assert.InRange(stats.LatencyMs.Units, 100, 300);
    }

    [Fact]
    public void Encode_EmptyAndOneEventUnit_AreSmall()
    {
        var one = default(UnitSums).Add(Event(latencyMs: 120));

        Assert.Equal(1 + 1 + 1 + 1 + 4, UnitStatisticsCodec.Encode(default(UnitSums)).Length);
        Assert.Equal(1 + 1 + 1 + 1 + (1 + 8) + 4, UnitStatisticsCodec.Encode(one).Length);
        Assert.Equal(1 + 1 + 1 + 1 + 4, UnitStatisticsCodec.Encode(new VariantUnitStats()).Length);
    }

    [Fact]
    public void Encode_DecodedValue_SameBytes()
    {
        var sums = UnitStatisticsCodec.Encode(default(UnitSums).Add(Event(latencyMs: 1.5)).Add(Event(latencyMs: 2.5) with { Converted = true, Error = "timeout" }));
        var stats = UnitStatisticsCodec.Encode(new VariantUnitStats().Replace(default, UnitStatisticsCodec.DecodeUnitSums(sums)).AddUnattributed(3));

        // One encoding per value: what a blob decodes to is written back as the same blob.
        Assert.Equal(sums, UnitStatisticsCodec.Encode(UnitStatisticsCodec.DecodeUnitSums(sums)));
        Assert.Equal(stats, UnitStatisticsCodec.Encode(UnitStatisticsCodec.DecodeVariantUnitStats(stats)));
    }

    [Fact]
    public void Encode_NegativeCount_Throws()
    {
        Assert.Throws<ArgumentException>(() => UnitStatisticsCodec.Encode(new VariantUnitStats().AddUnattributed(-1)));
        Assert.Throws<ArgumentException>(() => UnitStatisticsCodec.Encode(default(UnitSums) with { Events = -1 }));
    }

    [Fact]
    public void Decode_DamagedBlobs_ThrowInvalidData()
    {
        var sums = UnitStatisticsCodec.Encode(default(UnitSums).Add(Event(latencyMs: 120)));
        var stats = UnitStatisticsCodec.Encode(new VariantUnitStats().Replace(default, default(UnitSums).Add(Event(latencyMs: 120))));
        byte[] flipped = [.. sums];
        flipped[4] ^= 0x40;
        byte[] otherFormat = [.. sums];
        otherFormat[0] = 2;

        Assert.Throws<InvalidDataException>(() => UnitStatisticsCodec.DecodeUnitSums([]));
        Assert.Throws<InvalidDataException>(() => UnitStatisticsCodec.DecodeUnitSums(flipped));
        Assert.Contains("format is 2", Assert.Throws<InvalidDataException>(() => UnitStatisticsCodec.DecodeUnitSums(otherFormat)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => UnitStatisticsCodec.DecodeUnitSums(sums[..^1]));
        // A well-sealed blob of the other kind is refused too: it does not end where a unit's sums end.
        Assert.Throws<InvalidDataException>(() => UnitStatisticsCodec.DecodeUnitSums(stats));
        Assert.Throws<InvalidDataException>(() => UnitStatisticsCodec.DecodeVariantUnitStats(sums));
    }

    private static MetricEvent Event(double? latencyMs) =>
        new(null, "v", "e", "x", "u", DateTimeOffset.UnixEpoch, latencyMs, null, null, null, null, null, null, null, null);

    private static MetricEvent RandomEvent(Random random)
    {
        double? Maybe(double value) => random.Next(3) == 0 ? null : value;
        return Event(Maybe(100_000 + random.NextDouble() / 100)) with
        {
            Cost = Maybe(random.NextDouble() / 10),
            QualityScore = Maybe(random.NextDouble()),
            UserFeedback = Maybe(random.Next(-1, 2)),
            Converted = random.Next(3) switch { 0 => null, 1 => true, _ => false },
            Error = random.Next(10) == 0 ? "timeout" : null,
        };
    }
}
