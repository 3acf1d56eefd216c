using System.Text.Json;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Tests.Evaluations;

public sealed class TextChecksTests
{
    private const string Render = "You are a support agent for Acme.\nBe brief.";

    private static TestExpectation Check(string type, string valueJson) =>
        TestCaseRules.ValidateWithoutVersion([new TestCase("case", Expect: [new(type, JsonDocument.Parse(valueJson).RootElement.Clone())])])[0].Expect![0];

    [Theory]
    [InlineData("contains", "\"for Acme.\"", true, "render contains 'for Acme.'")]
    [InlineData("contains", "\"for Initech\"", false, "render does not contain 'for Initech': render is 'You are a support agent for Acme.⏎Be brief.'")]
    [InlineData("notContains", "\"sorry\"", true, "render does not contain 'sorry'")]
    [InlineData("notContains", "\"Be\"", false, "render contains 'Be' at character 34: '…Be brief.'")]
    [InlineData("regex", "\"^You are .+ for \\\\w+\\\\.$\"", false, "render does not match /^You are .+ for \\w+\\.$/: render is 'You are a support agent for Acme.⏎Be brief.'")]
    [InlineData("regex", "\"(?m)^Be brief\\\\.$\"", true, "render matches /(?m)^Be brief\\.$/")]
    [InlineData("equals", "\"You are a support agent for Acme.\\nBe brief.\"", true, "render equals the expected text")]
    [InlineData("equals", "\"You are a support agent for Acme.\"", false, "render differs from the expected text at character 33: expected 'You are a support agent for Acme.', got 'You are a support agent for Acme.⏎Be brief.'")]
    [InlineData("maxLength", "43", true, "render is 43 characters, at most 43")]
    [InlineData("maxLength", "42", false, "render is 43 characters, more than 42")]
    public void Run_EachCheck_GivesTheVerdictAndWhy(string type, string value, bool passed, string reason)
    {
        var check = Check(type, value);

        var result = TextChecks.Run(check, Render, "render");

        Assert.Equal(new CheckResult(type, passed, reason), result);
    }

    [Fact]
    public void Run_LongText_ReasonQuotesAnExcerpt()
    {
        var text = new string('x', 5_000);

        var result = TextChecks.Run(Check("contains", "\"y\""), text, "output");

        Assert.False(result.Passed);
        Assert.True(result.Reason.Length < 200, result.Reason);
        Assert.StartsWith("output does not contain 'y'", result.Reason);
    }

    [Fact]
    public void Run_AnEmojiAtTheExcerptsEnd_IsNotCutInHalf()
    {
        var text = new string('x', 79) + "😀 and more";

        var result = TextChecks.Run(Check("contains", "\"y\""), text, "output");

        Assert.Equal($"output does not contain 'y': output is '{new string('x', 79)}…'", result.Reason);
    }
}

public sealed class TestCaseRulesTests
{
    [Fact]
    public void Validate_FillsDefaults()
    {
        var tests = TestCaseRules.ValidateWithoutVersion([new TestCase(" polite ", Expect: [new("judge", Rubric: "Polite?"), new("jsonSchema")])]);

        var checks = tests[0].Expect!;
        Assert.Equal("polite", tests[0].Name);
        Assert.Empty(tests[0].Variables!);
        Assert.Equal(("output", 4), (checks[0].Target, checks[0].PassingScore!.Value));
        Assert.Equal("output", checks[1].Target);
    }

    [Theory]
    [InlineData(null, "tests[0].name")]
    [InlineData("same", "tests[1].name")]
    public void Validate_MissingOrRepeatedName_NamesTheCase(string? secondName, string field)
    {
        TestExpectation[] expect = [new("contains", JsonDocument.Parse("\"a\"").RootElement)];

        var error = Assert.Throws<InvalidInputException>(() =>
            TestCaseRules.ValidateWithoutVersion([new TestCase(secondName is null ? null : "same", Expect: expect), new TestCase(secondName, Expect: expect)]));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void Validate_JudgeOnRender_Refused()
    {
        var error = Assert.Throws<InvalidInputException>(() =>
            TestCaseRules.ValidateWithoutVersion([new TestCase("c", Expect: [new("judge", Target: "render", Rubric: "Polite?")])]));

        Assert.Equal("tests[0].expect[0].target", error.Field);
    }

    [Fact]
    public void Validate_NoChecks_Refused()
    {
        var error = Assert.Throws<InvalidInputException>(() => TestCaseRules.ValidateWithoutVersion([new TestCase("c", Expect: [])]));

        Assert.Equal("tests[0].expect", error.Field);
    }

    /// <summary>
    /// A validation pattern that backtracks catastrophically on a backtracking engine (<c>^(a+)+$</c> on a run of a's and a '!')
    /// is matched in linear time (VariableContract.PatternOf: the non-backtracking engine, with a time limit), compiled once for
    /// all the cases: the save refuses the case at once, naming it, the variable and the pattern.
    /// </summary>
    [Fact]
    public void Validate_CaseFailingACatastrophicallyBacktrackingPattern_RefusedNamingTheVariable()
    {
        VariableDefinition[] variables = [new("code", Required: true, Validation: "^(a+)+$")];
        TestCase Case(string name, string code) => new(name, new Dictionary<string, JsonElement> { ["code"] = JsonSerializer.SerializeToElement(code) },
            Expect: [new("contains", JsonSerializer.SerializeToElement("a"))]);

        var error = Assert.Throws<InvalidInputException>(() =>
            TestCaseRules.Validate([Case("fits", "aaa"), Case("slow", new string('a', 5_000) + "!")], variables));

        Assert.Equal("tests[1].variables", error.Field);
        Assert.Equal("tests[1] ('slow') gives a value the version refuses: variable 'code' does not match its validation pattern ^(a+)+$.", error.Message);
    }

    /// <summary>
    /// An evaluation run checks before rendering only what a render does not: variables the version does not have and required ones
    /// left out (NamesCheck). A value of the wrong type or failing its pattern passes it, as the render refuses it; VariablesCheck then
    /// words that refusal as the save does.
    /// </summary>
    [Fact]
    public void NamesCheck_LeavesValuesToTheRender_VariablesCheckWordsThem()
    {
        VariableDefinition[] variables = [new("code", Required: true, Validation: "^[a-z]+$"), new("count", VariableType.Number)];
        TestCase Case(string json) => new("case", JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json), Expect: [new("contains", JsonSerializer.SerializeToElement("a"))]);
        var names = TestCaseRules.NamesCheck(variables, "version 1.0.0");
        var all = TestCaseRules.VariablesCheck(variables, "version 1.0.0");

        Assert.Null(names(Case("""{"code":"ABC"}""")));
        Assert.Null(names(Case("""{"code":"abc","count":"5"}""")));
        Assert.Equal("gives a value version 1.0.0 refuses: variable 'code' does not match its validation pattern ^[a-z]+$", all(Case("""{"code":"ABC"}""")));
        Assert.Equal("gives 'count' a string, but version 1.0.0 declares it a number", all(Case("""{"code":"abc","count":"5"}""")));
        Assert.Equal("does not give 'code', which version 1.0.0 requires (required, with no defaultValue)", names(Case("""{"count":5}""")));
        Assert.StartsWith("gives 'other', which version 1.0.0 does not have", names(Case("""{"code":"abc","other":1}""")), StringComparison.Ordinal);
    }

    /// <summary>
    /// A case's variables, or a check's value, longer than one render may write (the render output size limit) is refused when
    /// saved, naming the case and the limit: such a case could only fail every run, and cases could grow without bound.
    /// One just under the limit is kept.
    /// </summary>
    [Theory]
    [InlineData("variables", "tests[1].variables")]
    [InlineData("value", "tests[1].expect[0].value")]
    public void Validate_VariablesOrValueLongerThanARenderMayWrite_RefusedNamingTheCaseAndTheLimit(string where, string field)
    {
        TestCase Case(string name, int length)
        {
            var text = JsonSerializer.SerializeToElement(new string('x', length));
            return where == "variables"
                ? new(name, new Dictionary<string, JsonElement> { ["text"] = text }, Expect: [new("contains", JsonSerializer.SerializeToElement("x"))])
                : new(name, Expect: [new("contains", text)]);
        }
        TestCaseRules.EnsureSendable([Case("fits", 900_000)]);
        // A rule of what a request adds, not of stored cases: a case an older server took stays valid (reads, appends, imports).
        Assert.Equal(2, TestCaseRules.ValidateWithoutVersion([Case("fits", 900_000), Case("huge", 1_000_000)]).Count);

        var error = Assert.Throws<InvalidInputException>(() =>
            TestCaseRules.EnsureSendable([Case("fits", 900_000), Case("huge", 1_000_000)]));

        Assert.Equal(("invalid_test", field), (error.Code, error.Field));
        Assert.Contains("1,000,000 characters", error.Message);
        Assert.StartsWith(where == "variables" ? "tests[1] ('huge')" : "tests[1].expect[0].value", error.Message);
    }
}
