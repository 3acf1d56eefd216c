using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Templates;

public sealed class TemplateEngineTests
{
    private readonly TemplateEngine _engine = new();

    private InvalidInputException Refused(string content, params VariableDefinition[] variables) =>
        Assert.Throws<InvalidInputException>(() => _engine.Validate(content, variables));

    private Exception? Accepted(string content, params VariableDefinition[] variables) =>
        Record.Exception(() => _engine.Validate(content, variables));

    [Fact]
    public void Validate_UndeclaredVariable_RefusedNamingIt()
    {
        var content = "Welcome to {{compnay_name}}!";

        var error = Refused(content, new VariableDefinition("company_name"));

        Assert.Equal("unknown_variable", error.Code);
        Assert.Equal("content", error.Field);
        Assert.Contains("'compnay_name'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UndeclaredVariableAndLiteralTag_NameTheOffendingTagsLineAndColumn()
    {
        // Both refusals had no place: the CLI could not point at the prompt file's line.
        var unknown = Refused("Dear {{name}},\n  see {{ordr.id}} and {{ordr}}.", new VariableDefinition("name"));
        var literal = Refused("Dear {{name}},\n\n    {{true}}", new VariableDefinition("name"));

        Assert.Equal(new TemplateLocation(2, 7, "content references 'ordr', which is not a declared variable; declare it in variables or fix the name."),
            unknown.Location);
        Assert.EndsWith("fix the name (line 2, column 7).", unknown.Message, StringComparison.Ordinal);
        Assert.Equal((3, 5), (literal.Location?.Line, literal.Location?.Column));
        Assert.StartsWith("content is not a valid template: '{{true}}' writes a literal", literal.Location?.Problem, StringComparison.Ordinal);
        Assert.EndsWith("or name a variable (line 3, column 5).", literal.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{#if true}}x{{/if}}")]
    [InlineData("{{lookup items 1}}{{lookup items \"name\"}}")]
    public void Validate_LiteralAsAHelpersArgument_Accepted(string content) =>
        Assert.Null(Accepted(content, new VariableDefinition("items", VariableType.Array)));

    [Fact]
    public void Render_VersionSavedBeforeLiteralTagsWereRefused_StillWritesTheLiteral()
    {
        var output = _engine.For(Version("v1", "[{{true}}|{{1}}|{{\"s\"}}]")).Render(null);

        Assert.Equal("[true|1|s]", output);
    }

    [Fact]
    public void Validate_SeveralUndeclaredVariables_RefusedNamingEach()
    {
        var content = "{{a}} {{b}} {{a}}";

        var error = Refused(content);

        Assert.Contains("'a', 'b'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DeclaredVariables_Accepted()
    {
        var content = "{{name}} {{user.city}} {{{name}}} {{~name~}}";

        var error = Accepted(content, new VariableDefinition("name"), new VariableDefinition("user", VariableType.Object));

        Assert.Null(error);
    }

    [Theory]
    [InlineData("{{#if typo}}x{{/if}}")]
    [InlineData("{{#unless typo}}x{{/unless}}")]
    [InlineData("{{#each typo}}x{{/each}}")]
    [InlineData("{{#with typo}}x{{/with}}")]
    [InlineData("{{#if name}}x{{else if typo}}y{{/if}}")]
    [InlineData("{{^typo}}x{{/typo}}")]
    [InlineData("{{{typo}}}")]
    [InlineData("{{typo.field}}")]
    [InlineData("{{lookup typo 0}}")]
    public void Validate_UndeclaredNameInAnyPosition_RefusedNamingIt(string content)
    {
        var variables = new VariableDefinition("name");

        var error = Refused(content, variables);

        Assert.Equal("unknown_variable", error.Code);
        Assert.Contains("'typo'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SectionBlockOnUndeclaredName_RefusedNamingIt()
    {
        var content = "{{#compnay}}x{{/compnay}}";

        var error = Refused(content, new VariableDefinition("company"));

        Assert.Equal("unknown_variable", error.Code);
        Assert.Contains("'compnay'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NamesInsideEachItemScope_AreNotChecked()
    {
        var content = "{{#each messages}}{{role}}: {{content}} {{#if urgent}}!{{/if}}{{/each}}";

        var error = Accepted(content, new VariableDefinition("messages", VariableType.Array));

        Assert.Null(error);
    }

    [Fact]
    public void Validate_NamesInsideWithScope_AreNotChecked()
    {
        var content = "{{#with customer}}{{first}} {{last}}{{/with}}";

        var error = Accepted(content, new VariableDefinition("customer", VariableType.Object));

        Assert.Null(error);
    }

    [Fact]
    public void Validate_NamesAfterEachCloses_AreCheckedAgain()
    {
        var content = "{{#each items}}{{field}}{{/each}}{{typo}}";

        var error = Refused(content, new VariableDefinition("items", VariableType.Array));

        Assert.Contains("'typo'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'field'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{#each items}}{{../compnay}}{{/each}}")]
    [InlineData("{{#each items}}{{@root.compnay}}{{/each}}")]
    [InlineData("{{#each items}}{{#if ../compnay}}x{{/if}}{{/each}}")]
    [InlineData("{{#each items}}{{#each tags}}{{../../compnay}}{{/each}}{{/each}}")]
    public void Validate_ParentOrRootPathInsideEach_IsChecked(string content)
    {
        var items = new VariableDefinition("items", VariableType.Array);

        var error = Refused(content, items);

        Assert.Equal("unknown_variable", error.Code);
        Assert.Contains("'compnay'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ParentPathToDeclaredVariableInsideEach_Accepted()
    {
        var content = "{{#each items}}{{../company}} {{@root.company}}{{/each}}";

        var error = Accepted(content, new VariableDefinition("items", VariableType.Array), new VariableDefinition("company"));

        Assert.Null(error);
    }

    [Fact]
    public void Validate_OneLevelUpFromNestedEach_IsNotChecked()
    {
        var content = "{{#each orders}}{{#each lines}}{{../order_id}}{{/each}}{{/each}}";

        var error = Accepted(content, new VariableDefinition("orders", VariableType.Array));

        Assert.Null(error);
    }

    [Fact]
    public void Validate_BlockParameters_Accepted()
    {
        var content = "{{#each items as |item index|}}{{index}}: {{item.name}}{{/each}}";

        var error = Accepted(content, new VariableDefinition("items", VariableType.Array));

        Assert.Null(error);
    }

    [Fact]
    public void Validate_ThisIndexLiteralsAndComments_Accepted()
    {
        var content = """
            {{! a comment naming {{nothing}} }}
            {{!-- a long comment with {{#each nothing}} in it --}}
            {{#each items}}{{@index}} {{this}} {{.}} {{@first}} {{@last}}{{/each}}
            {{#if true}}{{lookup items 0}}{{lookup items "key"}}{{/if}}
            \{{not_a_variable}}
            """;

        var error = Accepted(content, new VariableDefinition("items", VariableType.Array));

        Assert.Null(error);
    }

    [Fact]
    public void Validate_UnclosedBlock_RefusedAsInvalidTemplate()
    {
        var content = "{{#if x}}never closed";

        var error = Refused(content, new VariableDefinition("x"));

        Assert.Equal("invalid_template", error.Code);
        Assert.Equal("content", error.Field);
    }

    [Fact]
    public void Validate_UnclosedBlock_SaysWhereItOpened()
    {
        // '{{#if}} is never closed' said no line; an {{else if}} chain opened at its first tag.
        var content = "Hi.\n  {{#if x}}a{{else if x}}b\nend";

        var error = Refused(content, new VariableDefinition("x"));

        Assert.Equal(new TemplateLocation(2, 3, "content is not a valid template: '{{#if}}' is never closed with '{{/if}}'."), error.Location);
        Assert.Equal("content is not a valid template: '{{#if}}' is never closed with '{{/if}}' (line 2, column 3).", error.Message);
    }

    [Fact]
    public void Validate_MismatchedClose_RefusedAsInvalidTemplate()
    {
        var content = "{{#if x}}a{{/each}}";

        var error = Refused(content, new VariableDefinition("x"));

        Assert.Equal("invalid_template", error.Code);
    }

    [Fact]
    public void Validate_UnknownHelperCall_RefusedNamingIt()
    {
        var content = "{{foo bar}}";

        var error = Refused(content, new VariableDefinition("bar"));

        Assert.Equal("unknown_helper", error.Code);
        Assert.Contains("'foo'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnknownBlockHelper_RefusedNamingIt()
    {
        var content = "{{#shout bar}}x{{/shout}}";

        var error = Refused(content, new VariableDefinition("bar"));

        Assert.Equal("unknown_helper", error.Code);
        Assert.Contains("'shout'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SectionOnDeclaredArray_ItemNamesAreNotChecked()
    {
        var content = "{{#messages}}{{role}}: {{content}}{{/messages}}";

        var error = Accepted(content, new VariableDefinition("messages", VariableType.Array));

        Assert.Null(error);
    }

    [Fact]
    public void Validate_PartialBlock_RefusedAsUnsupported()
    {
        var content = "{{#> header}}fallback{{/header}}";

        var error = Refused(content);

        Assert.Equal("unsupported_template", error.Code);
    }

    [Fact]
    public void Validate_DuplicateVariableNames_Refused()
    {
        VariableDefinition[] variables = [new("name"), new("other"), new("name", VariableType.Number)];

        var error = Assert.Throws<InvalidInputException>(() => _engine.Validate("{{name}}", variables));

        Assert.Equal("duplicate_variable", error.Code);
        Assert.Equal("variables[2].name", error.Field);
        Assert.Contains("'name'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1st")]
    [InlineData("has space")]
    [InlineData("kebab-case")]
    [InlineData("dotted.name")]
    [InlineData("name\n")]
    public void Validate_InvalidVariableName_Refused(string name)
    {
        VariableDefinition[] variables = [new(name)];

        var error = Assert.Throws<InvalidInputException>(() => _engine.Validate("text", variables));

        Assert.Equal("invalid_variable", error.Code);
        Assert.Equal("variables[0].name", error.Field);
    }

    [Fact]
    public void Validate_TooManyVariables_Refused()
    {
        var variables = Enumerable.Range(0, PromptRules.MaxVariables + 1).Select(i => new VariableDefinition($"v{i}")).ToArray();

        var error = Assert.Throws<InvalidInputException>(() => _engine.Validate("text", variables));

        Assert.Equal("too_many", error.Code);
    }

    [Theory]
    [InlineData("^(a)\\1$")]
    [InlineData("^a(?=b)")]
    [InlineData("(?<!x)y")]
    [InlineData("(?>a+)b")]
    public void Validate_PatternWithoutLinearTimeGuarantee_RefusedWithClearMessage(string pattern)
    {
        VariableDefinition[] variables = [new("code", Validation: pattern)];

        var error = Assert.Throws<InvalidInputException>(() => _engine.Validate("{{code}}", variables));

        Assert.Equal("invalid_validation", error.Code);
        Assert.Equal("variables[0].validation", error.Field);
        Assert.Contains("'code'", error.Message, StringComparison.Ordinal);
        Assert.Contains("linear-time", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PatternThatDoesNotCompile_RefusedNamingVariable()
    {
        VariableDefinition[] variables = [new("code", Validation: "([")];

        var error = Assert.Throws<InvalidInputException>(() => _engine.Validate("{{code}}", variables));

        Assert.Equal("invalid_validation", error.Code);
        Assert.Equal("variables[0].validation", error.Field);
        Assert.Contains("'code'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PatternOnNonStringVariable_Refused()
    {
        VariableDefinition[] variables = [new("count", VariableType.Number, Validation: "^[0-9]+$")];

        var error = Assert.Throws<InvalidInputException>(() => _engine.Validate("{{count}}", variables));

        Assert.Equal("invalid_validation", error.Code);
        Assert.Contains("'count'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DefaultOfWrongType_RefusedSayingItIsTheDefault()
    {
        VariableDefinition[] variables = [new("count", VariableType.Number, DefaultValue: Json("\"three\""))];

        var error = Assert.Throws<InvalidInputException>(() => _engine.Validate("{{count}}", variables));

        Assert.Equal("invalid_variable", error.Code);
        Assert.Equal("variables[0].defaultValue", error.Field);
        // No caller has sent a value when a version is saved: the message must not speak of one.
        Assert.Equal("variable 'count' must be a number, but its defaultValue is a string.", error.Message);
    }

    [Fact]
    public void Validate_DefaultFailingPattern_RefusedSayingItIsTheDefault()
    {
        VariableDefinition[] variables = [new("lang", DefaultValue: Json("\"english\""), Validation: "^[a-z]{2}$")];

        var error = Assert.Throws<InvalidInputException>(() => _engine.Validate("{{lang}}", variables));

        Assert.Equal("variables[0].defaultValue", error.Field);
        Assert.Equal("variable 'lang' has a defaultValue that does not match its validation pattern ^[a-z]{2}$.", error.Message);
    }

    [Fact]
    public void For_SameVersionId_ReturnsSameCompiledInstance()
    {
        var version = Version("v1", "Hi {{name}}", new VariableDefinition("name"));

        var first = _engine.For(version);
        var second = _engine.For(version with { Content = "changed, but the id says it is the same immutable version" });

        Assert.Same(first, second);
    }

    [Fact]
    public void For_DifferentVersionIds_ReturnDifferentInstances()
    {
        var a = Version("v1", "A {{name}}", new VariableDefinition("name"));
        var b = Version("v2", "B {{name}}", new VariableDefinition("name"));

        var first = _engine.For(a);
        var second = _engine.For(b);

        Assert.NotSame(first, second);
        Assert.Equal("B x", second.Render(Inputs(("name", "\"x\""))));
    }

    [Fact]
    public void For_ManyThreadsAskingForOneVersion_AllGetOneInstance()
    {
        var version = Version("v1", "Hi {{name}}", new VariableDefinition("name"));
        var compiled = new CompiledPrompt[64];

        Parallel.For(0, compiled.Length, i => compiled[i] = _engine.For(version));

        Assert.All(compiled, c => Assert.Same(compiled[0], c));
    }

    [Theory]
    [InlineData("{{#if}}x{{/if}}", "needs a value")]
    [InlineData("{{#each}}x{{/each}}", "needs a value")]
    [InlineData("{{lookup}}", "two or three arguments")]
    [InlineData("{{lookup items}}", "two or three arguments")]
    [InlineData("{{this}}", "current item")]
    [InlineData("{{.}}", "current item")]
    // Handlebars reads {{true}} as a member named true: writing the literal would depart from it silently.
    [InlineData("{{true}}", "'{{true}}' writes a literal")]
    [InlineData("Hi {{1}}!", "'{{1}}' writes a literal")]
    [InlineData("{{\"s\"}}", "'{{\"s\"}}' writes a literal")]
    [InlineData("{{{null}}}", "'{{null}}' writes a literal")]
    [InlineData("{{#if items}}{{~ -2.5 ~}}{{/if}}", "'{{-2.5}}' writes a literal")]
    public void Validate_TemplatesThatWouldFailOrDepartFromHandlebarsAtRender_RefusedAtSaveTime(string content, string reason)
    {
        var error = Refused(content, new VariableDefinition("items", VariableType.Array));

        Assert.Equal("invalid_template", error.Code);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_LogHelper_RefusedAsUnknownBecauseItIsNotRegistered()
    {
        var error = Refused("{{log name}}", new VariableDefinition("name"));

        Assert.Equal("unknown_helper", error.Code);
    }

    [Theory]
    [InlineData(VariableType.String, false)]
    [InlineData(VariableType.Number, false)]
    [InlineData(VariableType.Boolean, false)]
    [InlineData(VariableType.Array, true)]
    [InlineData(VariableType.Object, true)]
    public void Validate_EachOverVariable_AcceptedOnlyForArraysAndObjects(VariableType type, bool accepted)
    {
        var error = Accepted("{{#each items}}{{this}}{{/each}}", new VariableDefinition("items", type));

        if (accepted) Assert.Null(error);
        else Assert.Contains("declared as a", Assert.IsType<InvalidInputException>(error).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EachOverMemberOfObject_Accepted()
    {
        var error = Accepted("{{#each order.items}}{{this}}{{/each}}", new VariableDefinition("order", VariableType.Object));

        Assert.Null(error);
    }
}
