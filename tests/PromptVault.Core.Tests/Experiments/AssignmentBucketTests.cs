using System.IO.Hashing;
using System.Text;
using PromptVault.Core.Experiments;

namespace PromptVault.Core.Tests.Experiments;

/// <summary>
/// Buckets pinned from the first implementation of algorithm version 1 (UTF-8 bytes hashed through a buffer), so any
/// faster way of computing them must give the same answers: the algorithm is published and clients compute it too.
/// </summary>
public sealed class AssignmentBucketTests
{
    public static TheoryData<ulong, string, int> PinnedBuckets => new()
    {
        { 0UL, "", 3138 },
        { 0UL, "user-1", 6057 },
        { 42UL, "user-1", 9575 },
        { 42UL, "user-2", 7511 },
        { 0xDEADBEEFCAFEBABEUL, "a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b", 2361 },
        { ulong.MaxValue, "customer@example.com", 1305 },
        { 7UL, "Zoë-Ødegård-日本-🙂", 5524 },
        { 7UL, "ünïcödé", 9117 },
        { 7UL, "lone-\uD800-surrogate", 1109 }, // UTF-8 writes U+FFFD for the lone surrogate
        { 99UL, new string('é', 400), 4146 },
        { 123456789UL, new string('x', 1500), 599 },
        { 123456789UL, string.Concat(Enumerable.Repeat("ab€🙂", 120)), 6676 }, // 1,080 UTF-8 bytes
    };

    [Theory]
    [MemberData(nameof(PinnedBuckets))]
    public void Bucket_PinnedInputs_GiveTheirPublishedBucket(ulong seed, string unitId, int expected)
    {
        var bucket = Assignment.Bucket(seed, unitId);

        Assert.Equal(expected, bucket);
    }

    [Theory]
    [MemberData(nameof(PinnedBuckets))]
    public void VariantIndex_PinnedInputs_FollowTheBucket(ulong seed, string unitId, int bucket)
    {
        int[] ends = [5000, 7500, 10000];

        var index = Assignment.VariantIndex(seed, unitId, ends);

        Assert.Equal(bucket < 5000 ? 0 : bucket < 7500 ? 1 : 2, index);
    }

    [Fact]
    public void Bucket_ManyIds_MatchesTheAlgorithmAsPublished()
    {
        // Ids of every length up to past the stack buffer, ASCII and not, against the formula as Assignment documents it.
        string[] alphabet = ["a", "Z", "7", "-", "@", "é", "日", "🙂"];
        var id = new StringBuilder();

        for (var i = 0; i < 1_200; i++)
        {
            id.Append(alphabet[i % 7 == 0 ? 5 + i % 3 : i % 5]);
            var seed = (ulong)i * 0x9E3779B97F4A7C15UL;
            var expected = (int)(XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(id.ToString()), unchecked((long)seed)) % Assignment.Buckets);

            Assert.Equal(expected, Assignment.Bucket(seed, id.ToString()));
        }
    }
}
