using BenchmarkDotNet.Attributes;
using PromptVault.Core.Experiments;

namespace PromptVault.Benchmarks;

/// <summary>Assigning one unit to one of three variants weighted 50/25/25, with the bucket ends computed once per experiment.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class AssignmentBenchmarks
{
    private const ulong Seed = 0x9E3779B97F4A7C15;
    private readonly int[] _bucketEnds = Assignment.BucketEnds([50m, 25m, 25m]);

    // A user id as products usually have them: a GUID string, 36 ASCII characters.
    private readonly string _unitId = "3f2b8c1e-7a4d-4e2b-9c1f-5d6e7a8b9c0d";

    // The same length with characters outside ASCII, which take the general UTF-8 path.
    private readonly string _nonAsciiUnitId = "zoë.ødegård+日本@example.com-3f2b8c1e";

    [Benchmark(Baseline = true)]
    public int VariantIndex() => Assignment.VariantIndex(Seed, _unitId, _bucketEnds);

    [Benchmark]
    public int VariantIndexNonAscii() => Assignment.VariantIndex(Seed, _nonAsciiUnitId, _bucketEnds);
}
