using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;

namespace PromptVault.Core.Tests.Evaluations;

public sealed class TestsDigestTests
{
    private static TestCase Case(string variablesJson) =>
        new("greets", JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(variablesJson), null,
            [new TestExpectation(CheckTypes.Contains, JsonSerializer.SerializeToElement("Hello"), CheckTypes.RenderTarget)]);

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static EvaluationRun RunWithDigest(string? digest) =>
        new("run-1", "greeter", "1.0.0", "v1", EvaluationStatus.Passed, [], DateTimeOffset.UnixEpoch, "alice") { TestsDigest = digest };

    [Fact]
    public void Digest_IsOfTheCanonicalJson_MembersSorted_NullsLeftOut_NoWhitespace()
    {
        // unitId, rubric and passingScore are null, so a field a later release adds (null on these cases) cannot change it either.
        var digest = TestCaseRules.Digest([Case("""{ "b": { "y": 1, "x": [2, 1] }, "a": "A" }""")]);

        Assert.Equal(Sha256("""[{"expect":[{"target":"render","type":"contains","value":"Hello"}],"name":"greets","variables":{"a":"A","b":{"x":[2,1],"y":1}}}]"""),
            digest);
    }

    [Fact]
    public void Digest_SameCasesWrittenInAnotherOrderOrSpacing_IsTheSame_OtherCases_Differ()
    {
        var written = TestCaseRules.Digest([Case("""{"a":"A","b":{"x":1,"y":2}}""")]);

        Assert.Equal(written, TestCaseRules.Digest([Case("""{ "b" : { "y": 2, "x": 1 },  "a": "A" }""")]));
        Assert.NotEqual(written, TestCaseRules.Digest([Case("""{"a":"A","b":{"x":1,"y":3}}""")]));
    }

    [Fact]
    public void Ran_RunStoredBeforeTheCanonicalDigest_CountsWhileItsCasesAreUnchanged()
    {
        IReadOnlyList<TestCase> cases = [Case("""{"a":"A"}""")];
        var legacy = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(cases, PromptVaultJson.Options)));

        Assert.True(TestCaseRules.Ran(RunWithDigest(legacy), cases));
        Assert.True(TestCaseRules.Ran(RunWithDigest(TestCaseRules.Digest(cases)), cases));
        Assert.False(TestCaseRules.Ran(RunWithDigest(legacy), [Case("""{"a":"B"}""")]));
        Assert.False(TestCaseRules.Ran(RunWithDigest(null), cases));
    }
}
