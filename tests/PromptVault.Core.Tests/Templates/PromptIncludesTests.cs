using System.Text.Json;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using PromptVault.Core.Versioning;

namespace PromptVault.Core.Tests.Templates;

public sealed class PromptIncludesTests
{
    private readonly TemplateEngine _engine = new();

    /// <summary>A registry in memory: prompt name → (label or version → template). Version ids are "name@version".</summary>
    private readonly Dictionary<string, Dictionary<string, (string Version, string Content, VariableDefinition[] Variables)>> _prompts = [];

    private void Add(string name, string version, string content, string[]? labels = null, params VariableDefinition[] variables)
    {
        var versions = _prompts.TryGetValue(name, out var found) ? found : _prompts[name] = [];
        versions[version] = (version, content, variables);
        foreach (var label in labels ?? [])
            versions[label] = (version, content, variables);
    }

    private IncludedPrompt? Find(PromptReference reference)
    {
        if (!_prompts.TryGetValue(reference.Name, out var versions) || !versions.TryGetValue(reference.Selector, out var version)) return null;
        var id = $"{reference.Name}@{version.Version}";
        return new IncludedPrompt(new ReferencedVersion(reference.Name, version.Version, id), _engine.For(id, version.Content, version.Variables));
    }

    private PromptIncludes Resolve(string includer, string content, params VariableDefinition[] variables) =>
        PromptIncludes.Resolve(includer, _engine.CompileDraft(content, variables).References, Find);

    private static Dictionary<string, JsonElement> Inputs(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    [Theory]
    [InlineData("guard", "guard", "production", null)]
    [InlineData("shared/guard@staging", "shared/guard", "staging", null)]
    [InlineData("guard@1.2.0", "guard", null, "1.2.0")]
    public void Parse_EachForm_ReadsNameAndSelector(string text, string name, string? label, string? version)
    {
        var reference = PromptReference.Parse(text);

        Assert.Equal(name, reference.Name);
        Assert.Equal(label, reference.Label);
        Assert.Equal(version, reference.Version?.ToString());
    }

    [Theory]
    [InlineData("Guard")]
    [InlineData("guard@")]
    [InlineData("guard@Staging")]
    [InlineData("guard extra")]
    [InlineData("")]
    public void Validate_MalformedReference_RefusedNamingIt(string text)
    {
        var error = Assert.Throws<InvalidInputException>(() => _engine.Validate($"a {{{{> {text}}}}} b", []));

        Assert.Equal("invalid_reference", error.Code);
        Assert.Contains("{{> name@label}}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_IncludeInsideEach_Refused()
    {
        var error = Assert.Throws<InvalidInputException>(() =>
            _engine.Validate("{{#each items}}{{> guard}}{{/each}}", [new VariableDefinition("items", VariableType.Array)]));

        Assert.Equal("invalid_template", error.Code);
        Assert.Contains("{{> guard}}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CompileDraft_Includes_ListedOnceInOrderOfFirstUse()
    {
        var template = _engine.CompileDraft("{{> b@staging}} {{> a}} {{> b@staging}} {{#if x}}{{> c@2.0.0}}{{/if}}", [new VariableDefinition("x", VariableType.Boolean)]);

        Assert.Equal(["{{> b@staging}}", "{{> a@production}}", "{{> c@2.0.0}}"], template.References.Select(r => r.ToString()));
    }

    [Fact]
    public void Render_Include_RendersIncludedVersionTrimmedWithTheVariables()
    {
        Add("guard", "1.0.0", "  Never reveal {{secret}}.\n", ["production"], new VariableDefinition("secret", Required: true));
        var includes = Resolve("support", "Hello {{name}}.\n{{> guard}}\nBye.", new VariableDefinition("name"));
        var template = _engine.CompileDraft("Hello {{name}}.\n{{> guard}}\nBye.", [new VariableDefinition("name")]);

        var output = template.Render(Inputs("""{ "name": "Ada", "secret": "the key" }"""), includes);

        Assert.Equal("Hello Ada.\nNever reveal the key.\nBye.", output);
        Assert.Equal([new ReferencedVersion("guard", "1.0.0", "guard@1.0.0")], includes.Versions);
    }

    [Fact]
    public void Render_IncludedRequiredVariableMissing_RefusedNamingIt()
    {
        Add("guard", "1.0.0", "Never reveal {{secret}}.", ["production"], new VariableDefinition("secret", Required: true));
        var template = _engine.CompileDraft("{{> guard}}", []);
        var includes = Resolve("support", "{{> guard}}");

        var error = Assert.Throws<InvalidInputException>(() => template.Render(Inputs("{}"), includes));

        Assert.Equal("missing_variable", error.Code);
        Assert.Equal("variables.secret", error.Field);
    }

    [Fact]
    public void Render_NestedIncludesThroughLabelAndVersion_RenderEachLevel()
    {
        Add("tone", "2.1.0", "Be {{mood}}.", ["staging"], new VariableDefinition("mood"));
        Add("guard", "1.0.0", "[{{> tone@staging}}] Stay safe.", ["production"]);
        var template = _engine.CompileDraft("{{> guard@1.0.0}} Go.", []);
        var includes = Resolve("support", "{{> guard@1.0.0}} Go.");

        var output = template.Render(Inputs("""{ "mood": "kind" }"""), includes);

        Assert.Equal("[Be kind.] Stay safe. Go.", output);
        Assert.Equal(["guard 1.0.0", "tone 2.1.0"], includes.Versions.Select(v => $"{v.Name} {v.Version}"));
    }

    [Fact]
    public void Render_WithoutResolvedIncludes_RefusedNamingTheReference()
    {
        var template = _engine.CompileDraft("{{> guard@staging}}", []);

        var error = Assert.Throws<InvalidInputException>(() => template.Render(Inputs("{}")));

        Assert.Equal("reference_not_found", error.Code);
        Assert.Contains("{{> guard@staging}}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{> missing}}", "no prompt 'missing' has a version labelled 'production'")]
    [InlineData("{{> guard@staging}}", "no prompt 'guard' has a version labelled 'staging'")]
    [InlineData("{{> guard@9.9.9}}", "no prompt 'guard' has a version 9.9.9")]
    public void Resolve_MissingReference_RefusedNamingIt(string content, string message)
    {
        Add("guard", "1.0.0", "Stay safe.", ["production"]);

        var error = Assert.Throws<InvalidInputException>(() => Resolve("support", content));

        Assert.Equal("reference_not_found", error.Code);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_MissingReferenceDeeper_NamesTheIncluderThatHasIt()
    {
        Add("guard", "1.0.0", "{{> tone@staging}}", ["production"]);

        var error = Assert.Throws<InvalidInputException>(() => Resolve("support", "{{> guard}}"));

        Assert.Contains("'guard' includes {{> tone@staging}}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_SelfInclude_RefusedAsCycle()
    {
        var error = Assert.Throws<ConflictException>(() => Resolve("support", "{{> support@1.0.0}}"));

        Assert.Equal("reference_cycle", error.Code);
        Assert.Contains("support → support", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_CycleThroughLabels_RefusedNamingTheChain()
    {
        // a's new version includes b; b's production includes c@staging, which includes a (another version of it).
        Add("b", "1.0.0", "{{> c@staging}}", ["production"]);
        Add("c", "3.0.0", "{{> a}}", ["staging"]);
        Add("a", "1.0.0", "plain", ["production"]);

        var error = Assert.Throws<ConflictException>(() => Resolve("a", "{{> b}}"));

        Assert.Equal("reference_cycle", error.Code);
        Assert.Contains("a → b → c → a", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_CycleFoundThroughAReferenceWalkedBefore_Refused()
    {
        // x is walked (and remembered) below b first, reaching y's production; below y 1.0.0 it is met again and leads back to y.
        Add("b", "1.0.0", "{{> x}}", ["production"]);
        Add("x", "1.0.0", "{{> y}}", ["production"]);
        Add("y", "1.0.0", "{{> x}}");
        Add("y", "2.0.0", "plain", ["production"]);

        var error = Assert.Throws<ConflictException>(() => Resolve("a", "{{> b}} {{> y@1.0.0}}"));

        Assert.Equal("reference_cycle", error.Code);
        Assert.Contains("y → x → … → y", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_SharedIncludeWithoutCycle_Accepted()
    {
        Add("guard", "1.0.0", "Stay safe.", ["production"]);
        Add("b", "1.0.0", "{{> guard}}", ["production"]);
        Add("c", "1.0.0", "{{> guard}}", ["production"]);

        var includes = Resolve("a", "{{> b}} {{> c}} {{> guard}}");

        Assert.Equal(["b", "guard", "c"], includes.Versions.Select(v => v.Name));
    }

    [Fact]
    public void Resolve_ChainDeeperThanTheLimit_Refused()
    {
        for (var i = 0; i <= TemplateLimits.MaxIncludeDepth; i++)
            Add($"p{i}", "1.0.0", $"{{{{> p{i + 1}}}}}", ["production"]);
        Add($"p{TemplateLimits.MaxIncludeDepth + 1}", "1.0.0", "end", ["production"]);

        var error = Assert.Throws<InvalidInputException>(() => Resolve("top", "{{> p0}}"));

        Assert.Equal("template_too_deep", error.Code);
    }

    [Fact]
    public void MergeContract_IncludedVariablesJoinAfterTheDeclaredOnes()
    {
        Add("guard", "1.0.0", "{{secret}} {{name}}", ["production"], new VariableDefinition("secret", Required: true), new VariableDefinition("name"));
        VariableDefinition[] declared = [new("name", Description: "the customer")];

        var contract = Resolve("support", "{{name}} {{> guard}}", declared).MergeContract(declared);

        Assert.Equal(["name", "secret"], contract.Select(v => v.Name));
        Assert.Equal("the customer", contract[0].Description);
        Assert.True(contract[1].Required);
    }

    [Fact]
    public void MergeContract_IncludedRequiredVariable_MakesTheBumpMajor()
    {
        Add("guard", "1.0.0", "{{secret}}", ["production"], new VariableDefinition("secret", Required: true));
        VariableDefinition[] before = [new("name")];

        var contract = Resolve("support", "{{name}} {{> guard}}", before).MergeContract(before);

        Assert.Equal(VersionBump.Major, ContractChange.Between(before, contract).RequiredBump);
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public void MergeContract_RequiredExactlyWhenNoDefaultAboveTheTemplateThatRequiresIt_AndRenderAgrees()
    {
        Add("guard", "1.0.0", "Policy: {{policy}}.", ["production"], new VariableDefinition("policy", Required: true));
        Add("middle", "1.0.0", "[{{> guard}}]", ["production"], new VariableDefinition("policy", DefaultValue: Json("\"14 days\"")));
        VariableDefinition[] optional = [new("policy")];
        VariableDefinition[] defaulted = [new("policy", DefaultValue: Json("\"30 days\""))];

        var optionalContract = Resolve("a", "{{> guard}}", optional).MergeContract(optional);
        var throughMiddle = Resolve("b", "{{> middle}}").MergeContract([]);
        var defaultedIncludes = Resolve("c", "{{> middle}}", defaulted);
        var defaultedContract = defaultedIncludes.MergeContract(defaulted);

        Assert.True(Assert.Single(optionalContract).Required);
        Assert.False(Assert.Single(throughMiddle).Required);
        Assert.False(Assert.Single(defaultedContract).Required);
        // The outermost default reaches every template below it; the middle's reaches the guard when the includer has none.
        Assert.Equal("[Policy: 30 days.]", _engine.CompileDraft("{{> middle}}", defaultedContract).Render(Inputs("{}"), defaultedIncludes));
        Assert.Equal("[Policy: 14 days.]", _engine.CompileDraft("{{> middle}}", []).Render(Inputs("{}"), Resolve("b", "{{> middle}}")));
        Assert.Equal("[Policy: 1 day.]", _engine.CompileDraft("{{> middle}}", defaultedContract).Render(Inputs("""{ "policy": "1 day" }"""), defaultedIncludes));
    }

    [Fact]
    public void MergeContract_IncludedPattern_IsCarried_AndTwoPatternsAreRefused()
    {
        Add("guard", "1.0.0", "{{code}}", ["production"], new VariableDefinition("code", Validation: "^[A-Z]+$"));
        VariableDefinition[] plain = [new("code")];
        VariableDefinition[] other = [new("code", Validation: "^[0-9]+$")];
        VariableDefinition[] badDefault = [new("code", DefaultValue: Json("\"abc\""))];

        var carried = Resolve("a", "{{> guard}}", plain).MergeContract(plain);
        var conflict = Assert.Throws<InvalidInputException>(() => Resolve("b", "{{> guard}}", other).MergeContract(other));
        var refusedDefault = Assert.Throws<InvalidInputException>(() => Resolve("c", "{{> guard}}", badDefault).MergeContract(badDefault));

        Assert.Equal("^[A-Z]+$", Assert.Single(carried).Validation);
        Assert.Equal("variable_conflict", conflict.Code);
        Assert.Contains("'guard' 1.0.0", conflict.Message, StringComparison.Ordinal);
        Assert.Equal(("invalid_variable", "variables[0].defaultValue"), (refusedDefault.Code, refusedDefault.Field));
    }

    [Fact]
    public void Render_IncludersDefaultFailsTheIncludedPattern_RefusalSaysTheDefaultWasUsed()
    {
        // As after a label move: the includer's saved contract holds a default the guard's newly labelled version refuses.
        Add("guard", "2.0.0", "{{policy}}", ["production"], new VariableDefinition("policy", Validation: "^[0-9]+ days$"));
        VariableDefinition[] contract = [new("policy", DefaultValue: Json("\"two weeks\""))];

        var error = Assert.Throws<InvalidInputException>(() =>
            _engine.CompileDraft("{{> guard}}", contract).Render(Inputs("{}"), Resolve("support", "{{> guard}}", contract)));

        Assert.Equal(("invalid_variable", "variables.policy"), (error.Code, error.Field));
        Assert.Contains("was not given, and the including prompt's defaultValue does not match", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MergeContract_TypeConflict_RefusedNamingVariableAndVersion()
    {
        Add("guard", "1.0.0", "{{count}}", ["production"], new VariableDefinition("count", VariableType.Number));
        VariableDefinition[] declared = [new("count")];

        var error = Assert.Throws<InvalidInputException>(() => Resolve("support", "{{count}} {{> guard}}", declared).MergeContract(declared));

        Assert.Equal("variable_conflict", error.Code);
        Assert.Contains("'count'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'guard' 1.0.0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChatRender_MessagesIncludePrompts_EachRendersItsIncludeWithTheSharedInputs()
    {
        Add("guard", "1.0.0", "Never share {{secret}}.", ["production"], new VariableDefinition("secret", VariableType.String, Required: true));
        Add("tone", "2.0.0", "Be brief.", ["staging"]);
        PromptMessage[] messages = [new(MessageRole.System, "{{> guard}} {{> tone@staging}}"), new(MessageRole.User, "{{question}} {{> guard}}")];
        VariableDefinition[] declared = [new("question", VariableType.String, Required: true)];
        var chat = _engine.CompileChatDraft(messages, declared);
        var includes = PromptIncludes.Resolve("support", chat.References, Find);
        var contract = includes.MergeContract(declared);
        var compiled = _engine.ChatFor("support@1", messages, contract);

        var rendered = compiled.Render(Inputs("""{"question":"Why?","secret":"the key"}"""), includes);

        Assert.Equal(["guard", "tone"], chat.References.Select(r => r.Name));
        Assert.Equal(["question", "secret"], contract.Select(v => v.Name));
        Assert.Equal(["Never share the key. Be brief.", "Why? Never share the key."], rendered.Select(m => m.Content));
        Assert.Equal(["guard@1.0.0", "tone@2.0.0"], includes.Versions.Select(v => v.VersionId));
        Assert.Throws<InvalidInputException>(() => compiled.Render(Inputs("""{"question":"Why?"}"""), includes));
    }
}
