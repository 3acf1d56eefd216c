using System.Globalization;
using System.Text.Json;
using MathNet.Numerics.Distributions;
using PromptVault.Core.Experiments;
using PromptVault.Core.Tests.Analysis;

namespace PromptVault.Core.Tests.Experiments;

public sealed class AssignmentTests
{
    private static readonly decimal[] HalfQuarterQuarter = [50, 25, 25];

    /// <summary>The published vectors (docs/assignment.md), computed by an independent XXH3 implementation (Node.js @node-rs/xxhash).</summary>
    public static TheoryData<string, string, int, string> Vectors()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "testdata", "assignment-vectors.json")));
        var data = new TheoryData<string, string, int, string>();
        foreach (var vector in document.RootElement.GetProperty("vectors").EnumerateArray())
        {
            data.Add(vector.GetProperty("hashSeed").GetString()!, vector.GetProperty("unitId").GetString()!, vector.GetProperty("bucket").GetInt32(),
                vector.GetProperty("variantIndex").GetRawText());
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Matches_the_published_vectors(string hashSeed, string unitId, int bucket, string variantIndexes)
    {
        var seed = ulong.Parse(hashSeed, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

        Assert.Equal(bucket, Assignment.Bucket(seed, unitId));
        foreach (var (weights, index) in JsonSerializer.Deserialize<Dictionary<string, int>>(variantIndexes)!)
        {
            var weightList = weights.Split('/').Select(w => decimal.Parse(w, CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(index, Assignment.VariantIndex(seed, unitId, Assignment.BucketEnds(weightList)));
            // What a render in an experiment uses, walking the weights in place.
            var experiment = AnalysisData.Experiment() with
            {
                Variants = weightList.Select((w, i) => new Variant($"v{i}", $"v{i}", $"version-{i}", w)).ToList(),
                HashSeed = seed,
            };
            Assert.Equal($"v{index}", Assignment.VariantFor(experiment, unitId).Id);
        }
    }

    [Fact]
    public void Bucket_ends_are_cumulative_weights_in_hundredths_of_a_percent()
    {
        Assert.Equal([5_000, 7_500, 10_000], Assignment.BucketEnds(HalfQuarterQuarter));
        Assert.Equal([3_333, 6_666, 10_000], Assignment.BucketEnds([33.33m, 33.33m, 33.34m]));
        Assert.Equal([1, 10_000], Assignment.BucketEnds([0.01m, 99.99m]));
    }

    [Fact]
    public void The_split_over_100_000_units_matches_the_weights()
    {
        var counts = CountVariants(seed: 0x5eed, units: 100_000, HalfQuarterQuarter, unit => $"user-{unit}");

        var expected = HalfQuarterQuarter.Select(w => 100_000 * (double)w / 100).ToArray();
        var chiSquare = counts.Select((c, i) => Math.Pow(c - expected[i], 2) / expected[i]).Sum();
        var pValue = 1 - ChiSquared.CDF(counts.Length - 1, chiSquare);
        Assert.True(pValue > 0.001, $"split {string.Join("/", counts)}: chi-square {chiSquare:F2}, p = {pValue:G3}");
    }

    [Fact]
    public void Sequential_numeric_ids_split_as_well_as_random_looking_ones()
    {
        var counts = CountVariants(seed: 7, units: 100_000, [50m, 50m], unit => unit.ToString(CultureInfo.InvariantCulture));

        var chiSquare = counts.Select(c => Math.Pow(c - 50_000.0, 2) / 50_000).Sum();
        Assert.True(1 - ChiSquared.CDF(1, chiSquare) > 0.001, $"split {string.Join("/", counts)}");
    }

    [Fact]
    public void A_units_variants_in_two_experiments_are_independent()
    {
        // A 2x2 contingency table of the variant in experiment A against the variant in experiment B, 50/50 each:
        // with independent assignment each cell holds about a quarter of the units.
        var ends = Assignment.BucketEnds([50m, 50m]);
        var table = new long[2, 2];
        for (var unit = 0; unit < 100_000; unit++)
        {
            var id = $"user-{unit}";
            table[Assignment.VariantIndex(0xA, id, ends), Assignment.VariantIndex(0xB, id, ends)]++;
        }

        var chiSquare = 0.0;
        for (var a = 0; a < 2; a++)
        for (var b = 0; b < 2; b++)
        {
            double rowTotal = table[a, 0] + table[a, 1], columnTotal = table[0, b] + table[1, b];
            var expected = rowTotal * columnTotal / 100_000;
            chiSquare += Math.Pow(table[a, b] - expected, 2) / expected;
        }
        var pValue = 1 - ChiSquared.CDF(1, chiSquare);
        Assert.True(pValue > 0.001, $"chi-square of independence {chiSquare:F2}, p = {pValue:G3}");
    }

    [Fact]
    public void The_same_unit_always_gets_the_same_variant_and_ids_are_case_sensitive()
    {
        var ends = Assignment.BucketEnds(HalfQuarterQuarter);
        var first = Enumerable.Range(0, 1_000).Select(i => Assignment.VariantIndex(99, $"u{i}", ends)).ToList();
        var again = Enumerable.Range(0, 1_000).Select(i => Assignment.VariantIndex(99, $"u{i}", ends)).ToList();

        Assert.Equal(first, again);
        Assert.NotEqual(Assignment.Bucket(99, "User-1"), Assignment.Bucket(99, "user-1"));
    }

    [Fact]
    public void Different_seeds_reshuffle_units()
    {
        var sameBucket = Enumerable.Range(0, 10_000).Count(i => Assignment.Bucket(1, $"u{i}") == Assignment.Bucket(2, $"u{i}"));

        Assert.True(sameBucket < 10, $"{sameBucket} of 10,000 units kept their bucket across seeds (about 1 expected)");
    }

    private static long[] CountVariants(ulong seed, int units, IReadOnlyList<decimal> weights, Func<int, string> unitId)
    {
        var ends = Assignment.BucketEnds(weights);
        var counts = new long[weights.Count];
        for (var unit = 0; unit < units; unit++)
            counts[Assignment.VariantIndex(seed, unitId(unit), ends)]++;
        return counts;
    }
}
