using System.Buffers.Binary;
using System.IO.Hashing;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Tests.Metrics;

public sealed class MetricAggregateCodecTests
{
    [Fact]
    public void Decode_EncodedEmptyAggregate_ReturnsEmptyAggregate()
    {
        var empty = new MetricAggregate();

        var decoded = MetricAggregateCodec.Decode(MetricAggregateCodec.Encode(empty));

        Assert.Equal(Describe(empty), Describe(decoded));
        Assert.Equal(0, decoded.Count);
        Assert.True(double.IsNaN(decoded.Latencies.Quantile(0.5)));
    }

    [Fact]
    public void Decode_EncodedAggregate_RoundTripsEveryFieldAndBucket()
    {
        var aggregate = Sample();

        var decoded = MetricAggregateCodec.Decode(MetricAggregateCodec.Encode(aggregate));

        Assert.Equal(Describe(aggregate), Describe(decoded));
        Assert.Equal((4, 1, 1, 2), (decoded.Count, decoded.Errors, decoded.Conversions, decoded.ConversionTrials));
        Assert.Equal(default(Moments).Add(0.004).Add(250.5).Add(1e12), decoded.LatencyMs);
        Assert.Equal(default(Moments).Add(1).Add(1_000_000_000), decoded.InputTokens);
        Assert.Equal(new Moments(1, 7, 0), decoded.OutputTokens);
        Assert.Equal(new Moments(1, 0.0125, 0), decoded.Cost);
        Assert.Equal(new Moments(1, 0.9, 0), decoded.QualityScore);
        Assert.Equal(new Moments(2, -0.5, 1.125), decoded.UserFeedback);
        Assert.Equal([(0, 1L), (LatencyHistogram.BucketOf(250.5), 1L), (LatencyHistogram.BucketCount - 1, 1L)], decoded.Latencies.NonEmptyBuckets());
        Assert.Equal(aggregate.Latencies.Quantile(0.5), decoded.Latencies.Quantile(0.5));
    }

    [Fact]
    public void Decode_EveryBucketFilled_RoundTripsABlobLargerThanTheEncodersFirstBuffer()
    {
        var aggregate = Sample();
        for (var bucket = 0; bucket < LatencyHistogram.BucketCount; bucket++)
            aggregate.Latencies.AddToBucket(bucket, 1L + bucket * 100_003L);

        var blob = MetricAggregateCodec.Encode(aggregate);
        var decoded = MetricAggregateCodec.Decode(blob);

        // The encoder writes into a 256-byte stack buffer first and grows into pooled arrays past it.
        Assert.InRange(blob.Length, 4 * LatencyHistogram.BucketCount, int.MaxValue);
        Assert.Equal(Describe(aggregate), Describe(decoded));
        Assert.Equal(blob, MetricAggregateCodec.Encode(decoded));
    }

    [Fact]
    public void Decode_UnusualMoments_RoundTripsTheirBits()
    {
        var aggregate = MetricAggregate.Restore(1, 0, 0, 0, new Moments(0, -0.0, 0), new Moments(0, double.NaN, double.PositiveInfinity),
            default, new Moments(long.MaxValue, double.MaxValue, double.Epsilon), default, default);

        var decoded = MetricAggregateCodec.Decode(MetricAggregateCodec.Encode(aggregate));

        Assert.Equal(BitConverter.DoubleToInt64Bits(-0.0), BitConverter.DoubleToInt64Bits(decoded.LatencyMs.Sum));
        Assert.Equal(Describe(aggregate), Describe(decoded));
    }

    [Fact]
    public void Decode_EncodedAggregate_KeepsAddingAndMergingLikeTheOriginal()
    {
        var original = Sample();
        var decoded = MetricAggregateCodec.Decode(MetricAggregateCodec.Encode(original));
        var more = Event(latency: 250.5, converted: true);

        original.Add(more);
        decoded.Add(more);
        original.Merge(Sample());
        decoded.Merge(Sample());

        Assert.Equal(Describe(original), Describe(decoded));
    }

    [Fact]
    public void Encode_SameAggregate_SameBytes()
    {
        var first = MetricAggregateCodec.Encode(Sample());
        var second = MetricAggregateCodec.Encode(Sample());

        Assert.Equal(first, second);
    }

    [Fact]
    public void Encode_OneEvent_WritesFormatTwoLayout()
    {
        var aggregate = new MetricAggregate();
        aggregate.Add(Event(latency: 0, converted: false));

        var blob = MetricAggregateCodec.Encode(aggregate);

        byte[] body =
        [
            2, // format
            1, 0, 0, 1, // count, errors, conversions, conversion trials
            0b1, // moments present: latency only
            1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // latency: count 1, sum 0.0, M2 0.0
            1, 1, 1, // one bucket: 0 (−1 + 1), count 1
        ];
        Assert.Equal(Sealed(body), blob);
    }

    [Fact]
    public void Decode_FormatOneBlob_ConvertsSumsToMeanAndM2()
    {
        // A format 1 blob as the previous PromptVault wrote it: latencies 1 and 3, so sum 4 and sum of squares 10.
        byte[] body = [1, 2, 0, 0, 0, 0b1, 2, .. BitConverter.GetBytes(4.0), .. BitConverter.GetBytes(10.0), 0];

        var decoded = MetricAggregateCodec.Decode(Sealed(body));

        Assert.Equal(new Moments(2, 4, 2), decoded.LatencyMs);
        Assert.Equal(2, decoded.LatencyMs.SampleVariance);
        Assert.Equal(MetricAggregateCodec.Format, MetricAggregateCodec.Encode(decoded)[0]);
    }

    [Fact]
    public void Decode_LargeValuesSmallSpread_KeepsTheirVariance()
    {
        var aggregate = new MetricAggregate();
        for (var i = 0; i < 1000; i++)
            aggregate.Add(Event(latency: 100_000 + (i % 2 == 0 ? 0.005 : -0.005)));

        var decoded = MetricAggregateCodec.Decode(MetricAggregateCodec.Encode(aggregate));

        Analysis.AnalysisData.Close(0.0050025019, Math.Sqrt(decoded.LatencyMs.SampleVariance), digits: 6);
    }

    [Fact]
    public void Encode_NegativeCount_Throws()
    {
        var aggregate = new MetricAggregate();
        aggregate.Latencies.AddToBucket(3, -1);

        var error = Assert.Throws<ArgumentException>(() => MetricAggregateCodec.Encode(aggregate));

        Assert.Contains("negative", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_EveryTruncation_ThrowsInvalidData()
    {
        var blob = MetricAggregateCodec.Encode(Sample());

        for (var length = 0; length < blob.Length; length++)
            Assert.Throws<InvalidDataException>(() => MetricAggregateCodec.Decode(blob[..length]));
    }

    [Fact]
    public void Decode_EveryFlippedBit_ThrowsInvalidData()
    {
        var blob = MetricAggregateCodec.Encode(Sample());

        for (var bit = 0; bit < blob.Length * 8; bit++)
        {
            var damaged = (byte[])blob.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<InvalidDataException>(() => MetricAggregateCodec.Decode(damaged));
        }
    }

    // Bodies with a valid checksum that no encoder writes.
    [Theory]
    [InlineData(new byte[] { 3, 0, 0, 0, 0, 0, 0 }, "format is 3")]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 9 }, "1 bytes follow")]
    [InlineData(new byte[] { 1, 0, 0, 0, 0, 0, 0, 9 }, "1 bytes follow")]
    [InlineData(new byte[] { 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0, 0, 0, 0, 0 }, "negative count")]
    [InlineData(new byte[] { 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0, 0, 0, 0, 0 }, "longer than 64 bits")]
    [InlineData(new byte[] { 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 0, 0, 0, 0 }, "longer than 64 bits")]
    [InlineData(new byte[] { 1, 0, 0, 0, 0, 0b100_0000, 0 }, "moments that do not exist")]
    [InlineData(new byte[] { 1, 1, 0, 0, 0, 1, 1, 0, 0 }, "ends in the middle")]
    [InlineData(new byte[] { 1, 1, 0, 0, 0, 0, 1, 0xF9, 0x0A, 1 }, "buckets are 0 to 1399")] // gap 1401 from −1
    [InlineData(new byte[] { 1, 2, 0, 0, 0, 0, 2, 1, 1, 0, 1 }, "ascending")] // bucket 0 twice
    [InlineData(new byte[] { 1, 0, 0, 0, 0, 0, 1, 1, 0 }, "non-empty")]
    public void Decode_ImpossibleContent_ThrowsInvalidDataNamingTheProblem(byte[] body, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => MetricAggregateCodec.Decode(Sealed(body)));

        Assert.StartsWith("The stored metric aggregate is corrupt", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_LastBucket_IsAccepted()
    {
        // 1399 = 0x577: varint 0xF8 0x0A after the gap from −1 (1400).
        var decoded = MetricAggregateCodec.Decode(Sealed([1, 1, 0, 0, 0, 0, 1, 0xF8, 0x0A, 1]));

        Assert.Equal([(LatencyHistogram.BucketCount - 1, 1L)], decoded.Latencies.NonEmptyBuckets());
    }

    /// <summary>Four events touching every field; latencies in the first, a middle and the last bucket.</summary>
    private static MetricAggregate Sample()
    {
        var aggregate = new MetricAggregate();
        aggregate.Add(Event(latency: 0.004, input: 1, output: 7, cost: 0.0125, converted: true, feedback: -1));
        aggregate.Add(Event(latency: 250.5, input: 1_000_000_000, quality: 0.9, converted: false, error: "timeout"));
        aggregate.Add(Event(latency: 1e12, feedback: 0.5));
        aggregate.Add(Event());
        return aggregate;
    }

    private static MetricEvent Event(double? latency = null, long? input = null, long? output = null, double? cost = null,
        double? quality = null, double? feedback = null, bool? converted = null, string? error = null) =>
        new(null, "version", null, null, null, DateTimeOffset.UnixEpoch, latency, input, output, cost, quality, feedback, converted, error, null);

    /// <summary>Every field, doubles in round-trip form, and the non-empty buckets.</summary>
    private static string Describe(MetricAggregate a) =>
        string.Join(" | ", a.Count, a.Errors, a.Conversions, a.ConversionTrials, a.LatencyMs, a.InputTokens, a.OutputTokens,
            a.Cost, a.QualityScore, a.UserFeedback, a.Latencies.Count, string.Join(",", a.Latencies.NonEmptyBuckets()));

    private static byte[] Sealed(byte[] body)
    {
        var blob = new byte[body.Length + 4];
        body.CopyTo(blob, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(body.Length), Crc32.HashToUInt32(body));
        return blob;
    }
}
