using System.Text.Json;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Templates;

/// <summary>
/// Templates read JSON inputs in place. These pin what they read, as they did when inputs were copied into .NET lists
/// and dictionaries first: the expected outputs were produced by that earlier implementation.
/// </summary>
public sealed class JsonInputRenderingTests
{
    internal const string InputsJson = """
        {
          "s": "Ann", "e": "", "n": 42, "z": 0, "f": 0.25, "whole": 1.0, "exp": 1e3, "neg": -0.0, "t": true, "no": false,
          "arr": ["a", "b", "c"], "nums": [1, 2.5, 0], "empty": [], "eo": {},
          "o": { "name": "Ann", "Name": "Upper", "age": 31, "tags": ["x", "y"], "inner": { "k": "v" }, "flag": false },
          "people": [{ "name": "Ann", "age": 31 }, { "name": "Bo", "age": 7, "pets": ["cat"] }],
          "mixed": [1, "two", true, null, { "a": 1 }, [3, 4]],
          "nested": [[1, 2], [3]]
        }
        """;

    /// <summary>(template, expected output) pairs over <see cref="InputsJson"/>; the .NET-values path renders them too.</summary>
    public static TheoryData<string, string> Cases => new()
    {
        { "{{s}}|{{e}}|{{n}}|{{z}}|{{f}}|{{whole}}|{{exp}}|{{neg}}|{{t}}|{{no}}", "Ann||42|0|0.25|1|1000|-0|true|false" },
        { "{{arr}}|{{nums}}|{{empty}}|{{mixed}}|{{nested}}", "a,b,c|1,2.5,0||1,two,true,,[a, 1],3,4|1,2,3" },
        { "{{o.inner}}|{{lookup people 0}}", "[k, v]|[name, Ann],[age, 31]" },
        { "{{o.name}}|{{o.Name}}|{{o.NAME}}|{{o.age}}|{{o.tags}}|{{o.inner.k}}|{{o.flag}}|{{o.missing}}", "Ann|Upper||31|x,y|v|false|" },
        { "{{arr.count}}|{{arr.Count}}|{{arr.length}}|{{arr.[0]}}|{{arr.[2]}}|{{arr.[3]}}|{{arr.0}}|{{lookup arr 1}}", "3|3||a|c||a|b" },
        { "{{people.[1].name}}|{{people.0.name}}|{{o.tags.[1]}}|{{nested.[0].[1]}}|{{lookup o \"name\"}}|{{s.length}}", "Bo|Ann|y|2|Ann|3" },
        { "{{#each arr}}{{@index}}:{{@key}}:{{this}}:{{@first}}:{{@last}};{{/each}}", "0:0:a:true:false;1:1:b:false:false;2:2:c:false:true;" },
        { "{{#each o.inner}}{{@index}}:{{@key}}={{this}}:{{@first}}:{{@last}};{{/each}}", "0:k=v:true:true;" },
        { "{{#each people as |p i|}}{{i}}={{p.name}},{{/each}}|{{#each o.inner as |v k|}}{{k}}={{v}}{{/each}}", "0=Ann,1=Bo,|k=v" },
        { "{{#each people}}[{{name}} {{age}} {{pets}} {{#if pets}}has{{else}}none{{/if}} {{../s}} {{@root.n}}]{{/each}}", "[Ann 31  none Ann 42][Bo 7 cat has Ann 42]" },
        { "{{#each mixed}}<{{this}}|{{#if this}}T{{else}}F{{/if}}>{{/each}}", "<1|T><two|T><true|T><|F><[a, 1]|T><3,4|T>" },
        { "{{#each nested}}({{#each this}}{{this}}{{@index}}{{/each}}){{/each}}", "(1021)(30)" },
        { "{{#each people}}{{#each this}}{{@key}}={{this}};{{/each}}|{{/each}}", "name=Ann;age=31;|name=Bo;age=7;pets=cat;|" },
        { "{{#if s}}1{{/if}}{{#if e}}2{{/if}}{{#if n}}3{{/if}}{{#if z}}4{{/if}}{{#if t}}5{{/if}}{{#if no}}6{{/if}}{{#if arr}}7{{/if}}{{#if empty}}8{{/if}}{{#if o}}9{{/if}}{{#if eo}}A{{/if}}{{#if neg}}B{{/if}}{{#if f}}C{{/if}}", "13579C" },
        { "{{#each empty}}x{{else}}empty{{/each}}|{{#each eo}}x{{else}}eo{{/each}}|{{#with eo}}in{{else}}out{{/with}}", "empty|eo|out" },
        { "{{#with o}}{{name}} {{age}} {{inner.k}} {{../s}}{{/with}}", "Ann 31 v Ann" },
        { "{{#arr}}[{{this}}]{{/arr}}|{{#o.inner}}[{{this}}]{{/o.inner}}|{{^empty}}none{{/empty}}|{{#s}}<{{this}}>{{/s}}", "[a][b][c]|[v]|none|<Ann>" },
    };

    [Fact]
    public void Render_EscapedStringsInLoops_WrittenDecoded()
    {
        // A loop looks through its array for escapes once and writes the strings of an array without any as they are;
        // an array with one escape must still decode the strings that have one, and no other.
        const string json = """{"lines": ["plain", "tab\there", "\"q\" \u00e9"], "people": [{"name": "A\nB"}, {"name": "C"}], "words": ["x", "y"]}""";
        using var document = JsonDocument.Parse(json);
        var inputs = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        var variables = inputs.Keys.Select(name => new VariableDefinition(name, VariableType.Array)).ToArray();
        const string template = "{{#each lines}}[{{this}}]{{/each}}|{{#each people}}{{name}};{{/each}}|{{#each words}}{{this}}{{/each}}|{{people.[0].name}}";

        var output = new TemplateEngine().For(Version("v1", template, variables)).Render(inputs);

        Assert.Equal("[plain][tab\there][\"q\" \u00e9]|A\nB;C;|xy|A\nB", output);
    }

    [Fact]
    public void Render_RawUtf8AfterAscii_WrittenWhole()
    {
        // Strings are copied as ASCII up to their first other byte, then transcoded: text on both sides of that byte, at
        // the top level, in a loop's items and as their members, must come out whole.
        const string json = """{"greeting": "Grüße aus Köln ✓ 😀 end", "lines": ["plain", "café au lait", "日本語 text", "😀"], "people": [{"name": "Zoë"}, {"name": "Ann"}]}""";
        using var document = JsonDocument.Parse(json);
        var inputs = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        VariableDefinition[] variables =
            [new("greeting", VariableType.String), new("lines", VariableType.Array), new("people", VariableType.Array)];
        const string template = "{{greeting}}|{{#each lines}}[{{this}}]{{/each}}|{{#each people}}{{name}};{{/each}}";

        var output = new TemplateEngine().For(Version("v1", template, variables)).Render(inputs);

        Assert.Equal("Grüße aus Köln ✓ 😀 end|[plain][café au lait][日本語 text][😀]|Zoë;Ann;", output);
    }

    [Theory]
    [InlineData("{{#each items}}{{role}}|{{n}};{{/each}}")]
    [InlineData("{{#each items}}{{this.role}}|{{./n}};{{/each}}")]
    [InlineData("{{#each items as |item|}}{{item.role}}|{{item.n}};{{/each}}")]
    public void Render_MembersOfJsonItems_WrittenAsMemberReadsThem(string template)
    {
        // A loop's body writes its items' members without making values of them first: an escaped name, a repeated name
        // (the last one counts), a missing member, an escaped string, each kind of value, an item that is no object.
        const string items = """[{"ro\u006ce": "a", "n": 1.50}, {"role": "x", "role": "y", "n": true}, {"n": null}, {"role": "tab\tq", "n": [1, "b"]}, {"role": {"k": "v"}, "n": "\u00e9"}, 7]""";
        var variables = new VariableDefinition("items", VariableType.Array);

        var output = new TemplateEngine().For(Version("v1", template, variables)).Render(Inputs(("items", items)));

        Assert.Equal("a|1.5;y|true;|;tab\tq|1,b;[k, v]|\u00e9;|;", output);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Render_JsonInputs_ReadAsListsAndDictionariesWere(string template, string expected)
    {
        using var document = JsonDocument.Parse(InputsJson);
        var inputs = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        var variables = inputs.Select(p => new VariableDefinition(p.Key, TypeOf(p.Value))).ToArray();

        var output = new TemplateEngine().For(Version("v1", template, variables)).Render(inputs);

        Assert.Equal(expected, output);
    }

    [Fact]
    public void Render_ObjectDefault_IsReadLikeAGivenValue()
    {
        VariableDefinition[] variables = [new("user", VariableType.Object, DefaultValue: Json("""{ "name": "Ann", "roles": ["a", "b"] }"""))];

        var output = new TemplateEngine().For(Version("v1", "{{user.name}}:{{#each user.roles}}{{this}}{{/each}}", variables)).Render(Inputs());

        Assert.Equal("Ann:ab", output);
    }

    internal static VariableType TypeOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => VariableType.Number,
        JsonValueKind.True or JsonValueKind.False => VariableType.Boolean,
        JsonValueKind.Array => VariableType.Array,
        JsonValueKind.Object => VariableType.Object,
        _ => VariableType.String,
    };

    [Theory]
    [InlineData("""[{ "role": "x" }, 5, { "role": "y" }, "s", null, { "role": "z" }]""", "x;;y;;;z;")]
    [InlineData("""[1, "two", true, null, { "role": "r" }, [3, 4]]""", ";;;;r;;")]
    public void Render_ArrayOfMixedKinds_ReadsMembersOfEachItemAsItsOwnKind(string items, string expected)
    {
        // Found by the fuzz test: a number after objects was read with the objects' accessor (a 500).
        var output = new TemplateEngine().For(Version("v1", "{{#each items}}{{role}};{{/each}}", new VariableDefinition("items", VariableType.Array)))
            .Render(Inputs(("items", items)));

        Assert.Equal(expected, output);
    }
}
