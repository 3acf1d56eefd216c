using System.Text.Json;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Templates;

/// <summary>
/// <see cref="CompiledPrompt.RenderValues"/> (in-process .NET values) must render and refuse exactly as
/// <see cref="CompiledPrompt.Render"/> does with the same values as JSON.
/// </summary>
public sealed class NetValueRenderingTests
{
    [Theory]
    [MemberData(nameof(JsonInputRenderingTests.Cases), MemberType = typeof(JsonInputRenderingTests))]
    public void RenderValues_JsonInputCases_RenderAsJsonInputsDo(string template, string expected)
    {
        using var document = JsonDocument.Parse(JsonInputRenderingTests.InputsJson);
        var inputs = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        var variables = inputs.Select(p => new VariableDefinition(p.Key, JsonInputRenderingTests.TypeOf(p.Value))).ToArray();
        var prompt = new TemplateEngine().For(Version("v1", template, variables));

        var output = prompt.RenderValues(ToValues(inputs));

        Assert.Equal(expected, output);
        Assert.Equal(prompt.Render(inputs), output);
    }

    public static TheoryData<string[]> CustomerSupportInputs => new()
    {
        new[] { "company_name", "\"Acme\"", "customer_name", "\"Ann\"", "previous_messages", CustomerSupportTemplateTests.Messages },
        new[] { "company_name", "\"Acme\"", "previous_messages", CustomerSupportTemplateTests.Messages },
        new[] { "company_name", "\"Acme\"" },
        new[] { "company_name", "\"Acme\"", "customer_name", "null", "previous_messages", "null" },
    };

    [Theory]
    [MemberData(nameof(CustomerSupportInputs))]
    public void RenderValues_CustomerSupportTemplate_RendersAsJsonInputsDo(string[] pairs)
    {
        var inputs = Pairs(pairs);
        var prompt = new TemplateEngine().For(Version("support-1", CustomerSupportTemplateTests.Template, CustomerSupportTemplateTests.Variables));

        Assert.Equal(prompt.Render(inputs), prompt.RenderValues(ToValues(inputs)));
    }

    [Theory]
    [InlineData(VariableType.String, "42")]
    [InlineData(VariableType.String, "true")]
    [InlineData(VariableType.String, "[\"a\"]")]
    [InlineData(VariableType.String, "{}")]
    [InlineData(VariableType.Number, "\"42\"")]
    [InlineData(VariableType.Number, "false")]
    [InlineData(VariableType.Number, "[1]")]
    [InlineData(VariableType.Boolean, "\"true\"")]
    [InlineData(VariableType.Boolean, "1")]
    [InlineData(VariableType.Boolean, "{}")]
    [InlineData(VariableType.Array, "{}")]
    [InlineData(VariableType.Array, "\"abc\"")]
    [InlineData(VariableType.Array, "3")]
    [InlineData(VariableType.Object, "[]")]
    [InlineData(VariableType.Object, "\"abc\"")]
    [InlineData(VariableType.Object, "true")]
    public void RenderValues_ValueOfWrongType_FailsAsJsonInputsDo(VariableType type, string json)
    {
        var prompt = new TemplateEngine().For(Version("v1", "{{x}}", new VariableDefinition("x", type)));

        AssertSameError(prompt, Inputs(("x", json)));
    }

    [Theory]
    [InlineData("\"ab-12\"")]
    [InlineData("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"")]
    public void RenderValues_ValueFailingPattern_FailsAsJsonInputsDo(string json)
    {
        var prompt = new TemplateEngine().For(Version("v1", "{{x}}", new VariableDefinition("x", Validation: "^([A-Z]{2}-[0-9]{4}|(a+)+)$")));

        AssertSameError(prompt, Inputs(("x", json)));
    }

    [Theory]
    [InlineData]
    [InlineData("x", "null")]
    [InlineData("other", "\"Ann\"")]
    public void RenderValues_MissingRequired_FailsAsJsonInputsDo(params string[] pairs)
    {
        var prompt = new TemplateEngine().For(Version("v1", "{{x}}", new VariableDefinition("x", Required: true)));

        AssertSameError(prompt, Pairs(pairs));
    }

    [Fact]
    public void RenderValues_ValueOfAnUnreadableType_IsRefusedNamingTheVariable()
    {
        var prompt = new TemplateEngine().For(Version("v1", "{{x}}", new VariableDefinition("x")));

        var error = Assert.Throws<InvalidInputException>(() => prompt.RenderValues(new Dictionary<string, object?> { ["x"] = DateTimeOffset.UnixEpoch }));

        Assert.Equal("invalid_variable", error.Code);
        Assert.Equal("variables.x", error.Field);
        Assert.Equal("variable 'x' must be a string, but the value is of a type templates cannot read.", error.Message);
    }

    public static TheoryData<object> ClrNumbers => new()
    {
        (sbyte)-7, (byte)7, (short)-300, (ushort)300, -70_000, 70_000u, -5_000_000_000L, 5_000_000_000UL,
        0.25f, 0.1f, 3f, 1e20f, 0.25, 0.1, 3.0, 1e20, 1.5e-7, 2.50m, 1.0m, 100m, 0.1m, -12.345m, 0m,
    };

    [Theory]
    [MemberData(nameof(ClrNumbers))]
    public void RenderValues_ClrNumber_WritesAndTestsAsItsJsonDoes(object number)
    {
        // {{o}} writes the number as an object's entry, [n, 2.5], through another path than {{n}}.
        var prompt = new TemplateEngine().For(Version("v1", "{{n}} {{#if n}}T{{else}}F{{/if}} {{#each list}}{{this}}{{/each}} {{o}}",
            new VariableDefinition("n", VariableType.Number), new VariableDefinition("list", VariableType.Array), new VariableDefinition("o", VariableType.Object)));
        var json = JsonSerializer.SerializeToElement(number);

        var output = prompt.RenderValues(new Dictionary<string, object?>
        {
            ["n"] = number, ["list"] = new List<object?> { number }, ["o"] = new Dictionary<string, object?> { ["n"] = number },
        });

        Assert.Equal(prompt.Render(new Dictionary<string, JsonElement>
        {
            ["n"] = json, ["list"] = JsonSerializer.SerializeToElement(new[] { json }), ["o"] = JsonSerializer.SerializeToElement(new { n = json }),
        }), output);
    }

    [Fact]
    public void RenderValues_OtherCollectionShapes_AreReadAsArraysAndObjects()
    {
        var prompt = new TemplateEngine().For(Version("v1", "{{#each items}}{{this}}{{/each}}|{{user.name}}|{{legacy.name}}",
            new VariableDefinition("items", VariableType.Array), new VariableDefinition("user", VariableType.Object), new VariableDefinition("legacy", VariableType.Object)));

        var output = prompt.RenderValues(new Dictionary<string, object?>
        {
            ["items"] = new[] { "a", "b" },
            ["user"] = new SortedDictionary<string, object?> { ["name"] = "Ann" },
            ["legacy"] = new System.Collections.Hashtable { ["name"] = "Bo" },
        });

        Assert.Equal("ab|Ann|Bo", output);
    }

    private static readonly CompiledPrompt WritesList = new TemplateEngine().CompileDraft("{{xs}}", [new VariableDefinition("xs", VariableType.Array)]);

    /// <summary>"x" inside <paramref name="depth"/> lists, each holding the next.</summary>
    private static object Nested(int depth)
    {
        object value = "x";
        for (var i = 0; i < depth; i++) value = new List<object?> { value };
        return value;
    }

    [Fact]
    public void RenderValues_ListsNestedAsDeepAsJsonMayNest_WrittenAsTheirJsonIs()
    {
        var json = new string('[', TemplateLimits.MaxValueDepth) + "\"x\"" + new string(']', TemplateLimits.MaxValueDepth);

        var output = WritesList.RenderValues(new Dictionary<string, object?> { ["xs"] = Nested(TemplateLimits.MaxValueDepth) });

        Assert.Equal(("x", "x"), (output, WritesList.Render(Inputs(("xs", json)))));
    }

    [Fact]
    public void RenderValues_ListsNestedOneDeeper_RefusedNamingTheLimit()
    {
        var error = Assert.Throws<InvalidInputException>(() =>
            WritesList.RenderValues(new Dictionary<string, object?> { ["xs"] = Nested(TemplateLimits.MaxValueDepth + 1) }));

        Assert.Equal(("invalid_variable", "variables"), (error.Code, error.Field));
        Assert.Contains($"value depth limit is {TemplateLimits.MaxValueDepth}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderValues_ListThatHoldsItself_RefusedNotAStackOverflow()
    {
        var self = new List<object?>();
        self.Add(self);

        var error = Assert.Throws<InvalidInputException>(() => WritesList.RenderValues(new Dictionary<string, object?> { ["xs"] = self }));

        Assert.Equal("invalid_variable", error.Code);
    }

    private static void AssertSameError(CompiledPrompt prompt, IReadOnlyDictionary<string, JsonElement> inputs)
    {
        var fromJson = Assert.Throws<InvalidInputException>(() => prompt.Render(inputs));
        var fromValues = Assert.Throws<InvalidInputException>(() => prompt.RenderValues(ToValues(inputs)));

        Assert.Equal((fromJson.Code, fromJson.Field, fromJson.Message), (fromValues.Code, fromValues.Field, fromValues.Message));
    }

    private static IReadOnlyDictionary<string, JsonElement> Pairs(string[] pairs) =>
        Inputs(pairs.Chunk(2).Select(p => (p[0], p[1])).ToArray());

    private static Dictionary<string, object?> ToValues(IReadOnlyDictionary<string, JsonElement> inputs) =>
        inputs.ToDictionary(p => p.Key, p => ToValue(p.Value), StringComparer.Ordinal);

    /// <summary>The .NET value a caller would hold for a JSON value: lists, dictionaries, strings, long or double, bool, null.</summary>
    internal static object? ToValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.TryGetInt64(out var whole) ? whole : value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => value.EnumerateArray().Select(ToValue).ToList(),
        // A repeated name keeps the last value, as templates read JSON inputs.
        JsonValueKind.Object => value.EnumerateObject().Aggregate(new Dictionary<string, object?>(StringComparer.Ordinal), (members, p) =>
        {
            members[p.Name] = ToValue(p.Value);
            return members;
        }),
        _ => null,
    };
}
