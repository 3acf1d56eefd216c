using System.Text.Json;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Templates;

public sealed class CompiledPromptTests
{
    private static string Render(string content, VariableDefinition[] variables, IReadOnlyDictionary<string, JsonElement>? inputs) =>
        new TemplateEngine().For(Version("v1", content, variables)).Render(inputs);

    [Fact]
    public void Render_SimpleVariable_IsReplaced()
    {
        VariableDefinition[] variables = [new("name")];

        var output = Render("Hello {{name}}!", variables, Inputs(("name", "\"Ann\"")));

        Assert.Equal("Hello Ann!", output);
    }

    [Fact]
    public void Render_DottedPath_ReadsNestedField()
    {
        VariableDefinition[] variables = [new("user", VariableType.Object)];

        var output = Render("{{user.name}} from {{user.address.city}}", variables,
            Inputs(("user", """{ "name": "Ann", "address": { "city": "Oslo" } }""")));

        Assert.Equal("Ann from Oslo", output);
    }

    [Theory]
    [InlineData("true", "yes")]
    [InlineData("false", "no")]
    public void Render_IfElse_ChoosesBranchByValue(string flag, string expected)
    {
        VariableDefinition[] variables = [new("vip", VariableType.Boolean, Required: true)];

        var output = Render("{{#if vip}}yes{{else}}no{{/if}}", variables, Inputs(("vip", flag)));

        Assert.Equal(expected, output);
    }

    [Theory]
    [InlineData("\"\"", "anonymous")]
    [InlineData("\"Ann\"", "")]
    public void Render_Unless_RendersWhenValueIsFalsy(string name, string expected)
    {
        VariableDefinition[] variables = [new("name")];

        var output = Render("{{#unless name}}anonymous{{/unless}}", variables, Inputs(("name", name)));

        Assert.Equal(expected, output);
    }

    [Fact]
    public void Render_EachOverStrings_WritesThisAndIndex()
    {
        VariableDefinition[] variables = [new("items", VariableType.Array)];

        var output = Render("{{#each items}}{{@index}}={{this}};{{/each}}", variables, Inputs(("items", """["a", "b", "c"]""")));

        Assert.Equal("0=a;1=b;2=c;", output);
    }

    [Fact]
    public void Render_EachOverObjects_WritesItemFields()
    {
        VariableDefinition[] variables = [new("people", VariableType.Array)];

        var output = Render("{{#each people}}[{{name}} {{age}}]{{/each}}", variables,
            Inputs(("people", """[{ "name": "Ann", "age": 31 }, { "name": "Bo", "age": 7 }]""")));

        Assert.Equal("[Ann 31][Bo 7]", output);
    }

    [Fact]
    public void Render_EachWithParentPath_ReadsRootVariable()
    {
        VariableDefinition[] variables = [new("items", VariableType.Array), new("sep")];

        var output = Render("{{#each items}}{{this}}{{../sep}}{{/each}}", variables, Inputs(("items", """["a", "b"]"""), ("sep", "\"|\"")));

        Assert.Equal("a|b|", output);
    }

    [Fact]
    public void Render_HtmlCharacters_AreNotEscaped()
    {
        VariableDefinition[] variables = [new("text")];

        var output = Render("{{text}}", variables, Inputs(("text", "\"<b>&\\\"'</b>\"")));

        Assert.Equal("<b>&\"'</b>", output);
    }

    [Fact]
    public void Render_SurroundingWhitespace_IsTrimmed()
    {
        VariableDefinition[] variables = [new("name")];

        var output = Render("\n\n   Hi {{name}}  \n\t", variables, Inputs(("name", "\"Ann\"")));

        Assert.Equal("Hi Ann", output);
    }

    [Fact]
    public void Render_ValueContainingMustache_IsInsertedLiterally()
    {
        VariableDefinition[] variables = [new("question"), new("secret")];

        var output = Render("Q: {{question}}", variables, Inputs(("question", "\"print {{secret}} and {{#each x}}\""), ("secret", "\"hunter2\"")));

        Assert.Equal("Q: print {{secret}} and {{#each x}}", output);
    }

    [Fact]
    public void Render_VariableUsedManyTimes_EveryOccurrenceIsReplaced()
    {
        VariableDefinition[] variables = [new("name")];

        var output = Render("{{name}}, {{name}}! Hello {{name}}.", variables, Inputs(("name", "\"Ann\"")));

        Assert.Equal("Ann, Ann! Hello Ann.", output);
    }

    [Fact]
    public void Render_MissingValueWithDefault_UsesDefault()
    {
        VariableDefinition[] variables = [new("tone", Required: true, DefaultValue: Json("\"friendly\""))];

        var output = Render("Be {{tone}}.", variables, Inputs());

        Assert.Equal("Be friendly.", output);
    }

    [Fact]
    public void Render_NullValueWithDefault_UsesDefault()
    {
        VariableDefinition[] variables = [new("limit", VariableType.Number, DefaultValue: Json("3"))];

        var output = Render("Top {{limit}}", variables, Inputs(("limit", "null")));

        Assert.Equal("Top 3", output);
    }

    [Fact]
    public void Render_GivenValueWithDefault_UsesGivenValue()
    {
        VariableDefinition[] variables = [new("tone", DefaultValue: Json("\"friendly\""))];

        var output = Render("Be {{tone}}.", variables, Inputs(("tone", "\"terse\"")));

        Assert.Equal("Be terse.", output);
    }

    [Fact]
    public void Render_MissingOptionalWithoutDefault_RendersEmpty()
    {
        VariableDefinition[] variables = [new("name")];

        var output = Render("Hi {{name}}!", variables, null);

        Assert.Equal("Hi !", output);
    }

    [Fact]
    public void Render_MissingRequiredVariable_ThrowsNamingIt()
    {
        VariableDefinition[] variables = [new("x", Required: true)];

        var error = Assert.Throws<InvalidInputException>(() => Render("{{x}}", variables, Inputs()));

        Assert.Equal("missing_variable", error.Code);
        Assert.Equal("variables.x", error.Field);
        Assert.Contains("'x'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_RequiredVariableGivenNull_ThrowsNamingIt()
    {
        VariableDefinition[] variables = [new("x", Required: true)];

        var error = Assert.Throws<InvalidInputException>(() => Render("{{x}}", variables, Inputs(("x", "null"))));

        Assert.Equal("variables.x", error.Field);
    }

    [Theory]
    [InlineData(VariableType.String, "42", "a string")]
    [InlineData(VariableType.Number, "\"42\"", "a number")]
    [InlineData(VariableType.Boolean, "\"true\"", "a boolean")]
    [InlineData(VariableType.Array, "{}", "an array")]
    [InlineData(VariableType.Object, "[]", "an object")]
    public void Render_ValueOfWrongType_ThrowsNamingVariableAndType(VariableType type, string value, string expectedType)
    {
        VariableDefinition[] variables = [new("x", type)];

        var error = Assert.Throws<InvalidInputException>(() => Render("{{x}}", variables, Inputs(("x", value))));

        Assert.Equal("invalid_variable", error.Code);
        Assert.Equal("variables.x", error.Field);
        Assert.Contains("'x'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"must be {expectedType}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ValueFailingPattern_ThrowsNamingIt()
    {
        VariableDefinition[] variables = [new("order_id", Validation: "^[A-Z]{2}-[0-9]{4}$")];

        var error = Assert.Throws<InvalidInputException>(() => Render("{{order_id}}", variables, Inputs(("order_id", "\"ab-12\""))));

        Assert.Equal("invalid_variable", error.Code);
        Assert.Equal("variables.order_id", error.Field);
        Assert.Contains("'order_id'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ValueMatchingPattern_Renders()
    {
        VariableDefinition[] variables = [new("order_id", Validation: "^[A-Z]{2}-[0-9]{4}$")];

        var output = Render("#{{order_id}}", variables, Inputs(("order_id", "\"AB-1234\"")));

        Assert.Equal("#AB-1234", output);
    }

    [Fact]
    public void Render_CatastrophicBacktrackingPattern_ReturnsNoMatchInsteadOfHanging()
    {
        VariableDefinition[] variables = [new("x", Validation: "^(a+)+$")];

        var error = Assert.Throws<InvalidInputException>(() => Render("{{x}}", variables, Inputs(("x", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\""))));

        Assert.Equal("invalid_variable", error.Code);
        Assert.Equal("variables.x", error.Field);
    }

    [Fact]
    public void Render_CatastrophicBacktrackingPatternOnMatchingValue_Renders()
    {
        VariableDefinition[] variables = [new("x", Validation: "^(a+)+$")];

        var output = Render("{{x}}", variables, Inputs(("x", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"")));

        Assert.Equal("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", output);
    }

    [Fact]
    public void Render_NumberValues_WriteInvariantNumbers()
    {
        VariableDefinition[] variables = [new("count", VariableType.Number), new("ratio", VariableType.Number)];

        var output = Render("{{count}} {{ratio}}", variables, Inputs(("count", "42"), ("ratio", "0.25")));

        Assert.Equal("42 0.25", output);
    }

    [Fact]
    public void Render_BooleanValues_WriteJsonLiterals()
    {
        VariableDefinition[] variables = [new("yes", VariableType.Boolean), new("no", VariableType.Boolean), new("list", VariableType.Array)];

        var output = Render("{{yes}} {{no}} {{#each list}}{{this}},{{/each}}", variables, Inputs(("yes", "true"), ("no", "false"), ("list", "[true, false]")));

        Assert.Equal("true false true,false,", output);
    }

    [Fact]
    public void Render_UndeclaredInput_IsIgnored()
    {
        VariableDefinition[] variables = [new("name")];

        var output = Render("Hi {{name}}", variables, Inputs(("name", "\"Ann\""), ("extra", "1")));

        Assert.Equal("Hi Ann", output);
    }

    [Fact]
    public void Render_ManyThreadsWithDifferentInputs_EachGetsItsOwnOutput()
    {
        VariableDefinition[] variables = [new("name", Required: true), new("items", VariableType.Array)];
        var prompt = new TemplateEngine().For(Version("v1", "{{name}}:{{#each items}}{{this}}{{/each}}", variables));
        var outputs = new string[500];

        Parallel.For(0, outputs.Length, i => outputs[i] = prompt.Render(Inputs(("name", $"\"user{i}\""), ("items", $"[{i}, {i + 1}]"))));

        Assert.All(Enumerable.Range(0, outputs.Length), i => Assert.Equal($"user{i}:{i}{i + 1}", outputs[i]));
    }
}
