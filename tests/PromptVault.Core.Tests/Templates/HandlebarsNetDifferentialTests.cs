using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using PromptVault.Benchmarks;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using PromptVault.Core.Tests.Templates.HandlebarsNet;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Templates;

/// <summary>
/// PromptVault's compiled templates against Handlebars.Net, the renderer they replaced: over a corpus of templates (the
/// rendering tests' templates, white space and scope cases) and FsCheck-generated templates of the subset's grammar with
/// generated JSON inputs, both must write the same text; the .NET-values path must write what the JSON path writes.
/// </summary>
public sealed class HandlebarsNetDifferentialTests
{
    /// <summary>How many generated (template, inputs) cases the property checks; a fixed seed keeps the run repeatable.</summary>
    private const int GeneratedCases = 800;

    private static readonly VariableDefinition[] Variables =
    [
        new("s"), new("e"), new("n", VariableType.Number), new("f", VariableType.Number), new("t", VariableType.Boolean),
        new("arr", VariableType.Array), new("people", VariableType.Array), new("nested", VariableType.Array), new("o", VariableType.Object),
        new("mixed", VariableType.Array),
    ];

    /// <summary>
    /// Deliberate differences, each with its reason and what PromptVault writes (over <see cref="JsonInputRenderingTests.InputsJson"/>):
    /// here PromptVault does what Handlebars.js does. Elsewhere it follows Handlebars.Net, even where that differs from
    /// Handlebars.js (an empty object is falsy; arrays and objects are written out as .NET wrote lists and dictionaries).
    /// </summary>
    public static TheoryData<string, string, string> DeliberateDifferences => new()
    {
        { "{{{s}}} {{~{s}~}} !", "AnnAnn!", "Handlebars.js's ~ on a triple tag; Handlebars.Net's parser refused it, so no stored version has it." },
        { "{{&s}}", "Ann", "Handlebars.js's unescaped tag; Handlebars.Net's parser refused it ('unparseable token'), so no stored version has it." },
        { "{{#arr}}A{{^}}B{{/arr}}|{{#with empty}}A{{^}}B{{/with}}", "AAA|B",
            "{{^}} is an {{else}} in Handlebars.js; Handlebars.Net wrote the item in its place inside a section, and nothing in #with." },
        { "{{^o.tags}}none{{/o.tags}}|{{^empty}}none{{/empty}}", "|none",
            "An inverted section on a member, as in Handlebars.js; Handlebars.Net's parser refused a dotted name there, so no stored version has it." },
        { "{{~lookup arr 1~}}", "b", "Handlebars.js writes the helper's value; Handlebars.Net wrote nothing for a helper call with ~ around it." },
        { "[{{true}}|{{1}}|{{\"s\"}}]", "[true|1|s]",
            "A literal as a tag's value: Handlebars reads a member of that name. Refused when a version is saved (invalid_template); one saved before writes the literal, as it did." },
        { "{{#each o.name}}[{{@key}}={{this}}]{{else}}none{{/each}}", "none",
            "#each over a string renders its else branch, as in Handlebars.js; Handlebars.Net iterated the string's .NET properties ([Length=3])." },
    };

    [Theory]
    [MemberData(nameof(DeliberateDifferences))]
    public void Render_DeliberateDifference_WritesWhatHandlebarsJsWrites(string template, string expected, string reason)
    {
        var (variables, inputs) = RenderingTestInputs();

        var output = new TemplateEngine().For(Version("v1", template, variables)).Render(inputs);

        Assert.True(expected == output, $"{reason}\nexpected {expected}\nwritten  {output}");
        Assert.NotEqual(expected, Oracle(template, variables, inputs));
    }

    [Fact]
    public void Render_ObjectWithARepeatedName_ReadsTheLastAndWritesEvery()
    {
        // Deliberate: Handlebars.Net failed writing such an object (ArgumentException: the same key twice; a 500 before).
        var variables = new[] { new VariableDefinition("dup", VariableType.Object) };
        var inputs = Inputs(("dup", """{ "a": 1, "b": 0, "a": 2 }""")).ToDictionary();
        const string template = "{{dup.a}}|{{#each dup}}{{@key}}={{this}};{{/each}}|{{dup}}";

        var output = new TemplateEngine().For(Version("v1", template, variables)).Render(inputs);

        Assert.Equal("2|a=1;b=0;a=2;|[a, 1],[b, 0],[a, 2]", output);
        Assert.StartsWith("<ArgumentException", Oracle(template, variables, inputs), StringComparison.Ordinal);
    }

    private static (VariableDefinition[] Variables, Dictionary<string, JsonElement> Inputs) RenderingTestInputs()
    {
        var inputs = Json(JsonInputRenderingTests.InputsJson).EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        return (inputs.Select(p => new VariableDefinition(p.Key, JsonInputRenderingTests.TypeOf(p.Value))).ToArray(), inputs);
    }

    public static TheoryData<string> CorpusTemplates
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var template in Corpus) data.Add(template);
            return data;
        }
    }

    /// <summary>The rendering tests' templates, and white space and scope cases written for this test.</summary>
    private static IEnumerable<string> Corpus =>
        JsonInputRenderingTests.Cases.Select(c => c.Data.Item1)
            .Concat([CustomerSupportTemplateTests.Template, CustomerSupportPrompt.Template])
            .Concat(
            [
                "Hello {{s}}!", "{{o.name}} from {{o.inner.k}}", "{{#if t}}yes{{else}}no{{/if}}", "{{#unless s}}anonymous{{/unless}}",
                "{{#each arr}}{{@index}}={{this}};{{/each}}", "{{#each people}}[{{name}} {{age}}]{{/each}}",
                "{{#each arr}}{{this}}{{../s}}{{/each}}", "\n\n   Hi {{s}}  \n\t", "{{s}}, {{s}}! Hello {{s}}.",
                "{{#each people}}{{#each @root.people}}{{name}}{{@index}}{{/each}}|{{/each}}",
                // Standalone lines, else chains and ~.
                "a\n{{#if t}}\nyes\n{{else}}\nno\n{{/if}}\nb", "  {{#each arr}}  \n  - {{this}}\n  {{/each}}  \nend",
                "{{#if t}}\n  1\n{{else if s}}\n  2\n{{else}}\n  3\n{{/if}}", "{{#if e}}1{{else if n}}2{{else unless t}}3{{/if}}",
                "x {{~s~}} y", "x\n\n{{~#if t~}}\n\n y \n\n{{~/if~}}\n\nz", "{{! comment }}\nline\n  {{!-- long {{s}} --}}  \nafter",
                "a {{! inline }} b", "{{#each arr~}}\n {{this}} \n{{~/each}}", "{{#with o}}\n{{name}}\n{{/with}}\n",
                "\r\n{{#if t}}\r\nwin\r\n{{/if}}\r\n", "{{#each arr}}{{#if @first}}first {{/if}}{{this}}{{#unless @last}}, {{/unless}}{{/each}}",
                // Scopes: ../ past an #if, block parameters, data in nested loops.
                "{{#each people}}{{#if name}}{{../s}}{{/if}}{{/each}}", "{{#each people}}{{#with this}}{{../name}}{{/with}}{{/each}}",
                "{{#each nested}}{{#each this}}{{@index}}{{../@index}}{{/each}}{{/each}}",
                "{{#each people as |p|}}{{#each p.pets as |pet i|}}{{p.name}}:{{pet}}{{i}}{{/each}}{{/each}}",
                "{{#with o as |x|}}{{x.name}}{{/with}}", "{{#each people}}{{#each pets}}{{../name}}/{{../../s}}{{/each}}{{/each}}",
                "{{#each o}}{{@key}}={{#if this}}T{{else}}F{{/if}};{{/each}}", "{{#o}}{{name}}{{/o}}|{{^e}}empty{{/e}}",
                "{{#each people}}{{@root.s}}{{@root.o.name}}{{/each}}", "{{lookup arr 2}}{{lookup o \"age\"}}{{#if (lookup people 1)}}y{{/if}}",
                "{{#each arr}}{{lookup ../arr @index}}{{/each}}", "{{{s}}} {{ s }}", "\\{{s}} {{s}} \\\\{{s}}",
                // ../ in a section: one on true adds no level, one on an array or object does.
                "{{#each people}}{{#vip}}{{../s}}{{age}};{{/vip}}{{/each}}", "{{#each people}}{{#vip}}{{#each ../arr}}{{this}}{{/each}}{{/vip}}{{/each}}",
                "{{#t}}[{{../s}}]{{/t}}", "{{#o}}[{{../s}}]{{/o}}", "{{#each people}}{{#pets}}{{../name}}{{/pets}}{{/each}}",
                "{{#each people}}{{#vip}}{{#with ../o}}{{../../s}}{{name}}{{/with}}{{/vip}}{{/each}}", "{{#t}}{{#o}}{{../../s}}|{{../s}}{{/o}}{{/t}}", "{{#t}}{{this}}{{/t}}",
                // An inverted section's else is a section's body: per item, with the value in scope, on true adding no level.
                "{{^arr}}none{{else}}item;{{/arr}}", "{{^arr}}none{{else}}{{this}}{{@index}};{{/arr}}", "{{^e}}none{{else}}{{this}}{{/e}}",
                "{{^o}}none{{else}}{{name}}{{../s}}{{/o}}", "{{^t}}no{{else}}[{{../s}}]{{/t}}",
                "{{#each people}}{{^pets}}none{{else}}{{../name}}:{{this}}{{@index}};{{/pets}}|{{/each}}",
"{{#with e}}x{{else}}none{{/with}}", "{{#if f}}{{f}}{{/if}}{{#unless n}}{{n}}{{/unless}}",
                // A loop whose body writes only text and the item's members, over items of every kind.
                "{{#each mixed}}<{{name}}:{{age}}:{{length}}:{{count}}>{{/each}}", "{{#each mixed}}{{name}}{{else}}none{{/each}}",
            ]);

    private const string CorpusInputs = """
        {
          "s": "Ann", "e": "", "n": 42, "f": 0.25, "t": true,
          "arr": ["a", "b", "c"],
          "people": [{ "name": "Ann", "age": 31, "vip": true }, { "name": "Bo", "age": 7, "pets": ["cat", "dog"], "vip": false }],
          "nested": [[1, 2], [3]],
          "o": { "name": "Ann", "age": 31, "tags": ["x", "y"], "inner": { "k": "v" }, "flag": false },
          "mixed": [{ "name": "Ann \"A\"\n\u00e9", "age": 3 }, "text", 5, true, null, { "age": 1.5 }, ["x", "y"], {}]
        }
        """;

    [Theory]
    [MemberData(nameof(CorpusTemplates))]
    public void Render_CorpusTemplate_WritesWhatHandlebarsNetWrites(string template)
    {
        var (variables, inputs) = RenderingTestInputs();
        var sets = new[]
        {
            (variables, inputs),
            (Variables, Json(CorpusInputs).EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal)),
            (CustomerSupportTemplateTests.Variables, Inputs(("company_name", "\"Acme\""), ("customer_name", "\"Ann\""), ("previous_messages", CustomerSupportTemplateTests.Messages)).ToDictionary()),
        };
        var declaring = sets.Where(set => Declares(set.Item1, template)).ToList();

        Assert.NotEmpty(declaring);
        foreach (var (vars, values) in declaring)
            if (Difference(template, vars, values) is { } difference) Assert.Fail(difference);
    }

    [Fact]
    public void Render_GeneratedTemplatesAndInputs_WriteWhatHandlebarsNetWrites()
    {
        var cases = Gen.Zip(Template(3, inItem: false), Inputs).Sample(GeneratedCases, new Rnd(20261201UL), 30);
        var failures = new List<string>();
        var compared = 0;
        foreach (var (template, inputsJson) in cases)
        {
            if (!Declares(Variables, template)) continue;
            using var document = JsonDocument.Parse(inputsJson);
            var inputs = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
            compared++;
            if (Difference(template, Variables, inputs) is { } difference) failures.Add(difference);
        }

        Assert.True(compared >= GeneratedCases / 2, $"only {compared} of {GeneratedCases} generated templates were valid");
        Assert.True(failures.Count == 0, $"{failures.Count} of {compared} differ; first:\n{string.Join("\n\n", failures.Take(5))}");
    }

    /// <summary>Whether the template passes the save-time checks with these variables (only such templates are rendered).</summary>
    private static bool Declares(VariableDefinition[] variables, string template) =>
        Record.Exception(() => new TemplateEngine().Validate(template, variables)) is null;

    private static string? Difference(string template, VariableDefinition[] variables, Dictionary<string, JsonElement> inputs)
    {
        var prompt = new TemplateEngine().For(Version("v1", template, variables));
        var expected = Oracle(template, variables, inputs);
        var actual = prompt.Render(inputs);
        if (actual != expected)
            return $"template {JsonSerializer.Serialize(template)}\ninputs {JsonSerializer.Serialize(inputs)}\nHandlebars.Net {JsonSerializer.Serialize(expected)}\nPromptVault    {JsonSerializer.Serialize(actual)}";
        var fromValues = prompt.RenderValues(inputs.ToDictionary(p => p.Key, p => NetValueRenderingTests.ToValue(p.Value), StringComparer.Ordinal));
        return fromValues == actual ? null
            : $"template {JsonSerializer.Serialize(template)}\ninputs {JsonSerializer.Serialize(inputs)}\nJSON path   {JsonSerializer.Serialize(actual)}\nvalues path {JsonSerializer.Serialize(fromValues)}";
    }

    /// <summary>What Handlebars.Net writes, or the exception it throws as <c>&lt;Type: message&gt;</c>.</summary>
    private static string Oracle(string template, VariableDefinition[] variables, Dictionary<string, JsonElement> inputs)
    {
        try
        {
            return HandlebarsNetRenderer.Render(template, variables, inputs);
        }
        catch (Exception e)
        {
            return $"<{e.GetType().Name}: {e.Message}>";
        }
    }

    // ---- the generators: the subset's grammar, and inputs of the variables' types

    private static readonly string[] RootValues = ["s", "e", "n", "f", "t", "arr", "o", "o.name", "o.inner.k", "o.tags", "o.flag", "people.[0].name",
        "people.1.age", "arr.[1]", "arr.count", "s.length", "@root.s", "nested.[0]", "o.missing", "people"];

    private static readonly string[] ItemValues = ["this", ".", "name", "age", "tags", "this.name", "pets", "inner.k", "@index", "@key", "@first",
        "@last", "../s", "@root.n", "../e", "k", "flag", "../name", "../../s", "this.[0]"];

    private static readonly string[] RootTargets = ["arr", "o", "people", "nested", "o.tags", "o.inner", "people.[1]", "o.missing"];

    // Never a string: Handlebars.Net iterates a string's properties (see DeliberateDifferences).
    private static readonly string[] ItemTargets = ["tags", "inner", "pets", "@root.people", "../arr", "../people"];

    private static readonly string[] TestValues = ["s", "e", "n", "f", "t", "arr", "o", "people", "o.flag", "o.tags", "nested"];

    private static readonly string[] Texts = ["a", " ", "\n", "  \n", "x y", "\t", "\r\n", ": ", "\n\n", " - "];

    private static Gen<string> Choose(params string[] values) => Gen.Elements(values);

    private static Gen<string> Tag(string open, Gen<string> inner, string close = "}}") =>
        Gen.Zip(Strip, inner, (left, text) => open + left + text).SelectMany(start => Strip.Select(right => start + right + close));

    private static readonly Gen<string> Strip = Gen.Frequency((5, Gen.Constant("")), (1, Gen.Constant("~")));

    /// <summary>A block tag, often alone on its line so the standalone rules apply.</summary>
    private static Gen<string> Line(Gen<string> tag) =>
        Gen.Zip(Choose("", "\n", "\n  ", " "), tag, (before, text) => before + text).SelectMany(line => Choose("", "\n", " \n", "\n\n").Select(after => line + after));

    private static Gen<string> Template(int depth, bool inItem) =>
        Gen.Choose(0, 5).SelectMany(n => Node(depth, inItem).ArrayOf(n)).Select(string.Concat);

    private static Gen<string> Node(int depth, bool inItem)
    {
        var value = Choose(inItem ? [.. ItemValues, .. RootValues.Take(3).Select(v => "@root." + v)] : RootValues);
        var leaf = Gen.Frequency(
            (6, Choose(Texts)),
            (6, Tag("{{", value)),
            (1, value.Select(v => "{{{" + v + "}}}")),
            (1, Choose("{{! note }}", "{{!-- {{s}} --}}", "\n{{! alone }}\n", "\\{{s}}")),
            (1, Gen.Constant("{{").SelectMany(open => Gen.Zip(Choose(inItem ? ["this", "../arr", "@root.people"] : ["arr", "people", "o"]), Choose("0", "1", "\"name\"", "@index"))
                .Select(t => $"{open}lookup {t.Item1} {t.Item2}}}}}"))));
        if (depth == 0) return leaf;

        var test = Choose(inItem ? [.. ItemValues.Take(8), "../t", "@root.e"] : TestValues);
        var target = Choose(inItem ? ItemTargets : RootTargets);
        Gen<string> Block(string helper, Gen<string> argument, bool scoped, bool chain = false) =>
            from arg in argument
            from body in Template(depth - 1, inItem || scoped)
            from otherwise in Gen.Frequency((2, Gen.Constant<string?>(null)), (1, Template(depth - 1, inItem).Select(string? (t) => t)))
            from open in Line(Tag("{{", Gen.Constant($"#{helper} {arg}")))
            from elseTag in otherwise is null ? Gen.Constant("")
                : chain ? Line(Tag("{{", test.Select(t => $"else if {t}"))).Select(e => e + otherwise)
                : Line(Tag("{{", Gen.Constant("else"))).Select(e => e + otherwise)
            from close in Line(Tag("{{", Gen.Constant($"/{(helper.Length == 0 ? arg : helper)}")))
            select open + body + elseTag + close;

        return Gen.Frequency(
            (8, leaf),
            (2, Block("if", test, scoped: false, chain: true)),
            (1, Block("unless", test, scoped: false)),
            (2, Block("each", target, scoped: true)),
            (1, Block("with", target, scoped: true)),
            (1, Block("", Choose(inItem ? ["tags", "inner", "pets", "name", "flag"] : [.. RootTargets, "t"]), scoped: true)),
            (1, Inverted()));

        // {{^x}}…{{/x}}, sometimes with an else, which renders as a section's body does.
        Gen<string> Inverted() =>
            from t in test.Where(t => !t.Contains('.'))
            from body in Template(depth - 1, inItem)
            from otherwise in Gen.Frequency((2, Gen.Constant<string?>(null)), (1, Template(depth - 1, inItem: true).Select(string? (t) => t)))
            from open in Line(Tag("{{", Gen.Constant("^" + t)))
            from elseTag in otherwise is null ? Gen.Constant("") : Line(Tag("{{", Gen.Constant("else"))).Select(e => e + otherwise)
            from close in Line(Tag("{{", Gen.Constant("/" + t)))
            select open + body + elseTag + close;
    }

    private static readonly Gen<string> JsonString = Choose("\"Ann\"", "\"\"", "\" \"", "\"a\\nb\"", "\"é ✓ 😀\"", "\"q\\\"uote\"", "\"{{s}}\"", "\"  pad  \"", "\"0\"");

    private static readonly Gen<string> JsonNumber = Choose("0", "-0", "42", "-7", "0.25", "1.0", "1e3", "12345678901", "-0.5", "3.14159", "1E-7");

    private static readonly Gen<string> JsonScalar = Gen.Frequency((3, JsonString), (3, JsonNumber), (2, Choose("true", "false")), (1, Gen.Constant("null")));

    private static Gen<string> JsonArray(Gen<string> item) =>
        Gen.Choose(0, 4).SelectMany(n => item.ArrayOf(n)).Select(items => "[" + string.Join(",", items) + "]");

    private static readonly Gen<string> Member = Gen.Frequency(
        (3, JsonScalar), (1, JsonArray(JsonScalar)),
        (1, JsonScalar.Select(k => $"{{\"k\":{k}}}")));

    /// <summary>Objects with distinct names (a repeated name is a deliberate difference, tested on its own), each member's kind fixed by its name.</summary>
    private static readonly Gen<string> JsonObject =
        Gen.CollectToList(new[]
        {
            JsonScalar.Select(v => $"\"name\":{v}"), JsonNumber.Select(v => $"\"age\":{v}"), JsonArray(JsonScalar).Select(v => $"\"tags\":{v}"),
            JsonScalar.Select(v => $"\"inner\":{{\"k\":{v}}}"), Choose("true", "false", "null", "0").Select(v => $"\"flag\":{v}"),
            JsonArray(JsonScalar).Select(v => $"\"pets\":{v}"), Member.Select(v => $"\"k\":{v}"),
        }.Select(member => Gen.Frequency((2, member), (1, Gen.Constant(""))))).Select(ms => "{" + string.Join(",", ms.Where(m => m.Length > 0)) + "}");

    private static readonly Gen<string> Inputs =
        Gen.CollectToList(new[]
        {
            JsonString.Select(v => $"\"s\":{v}"), JsonString.Select(v => $"\"e\":{v}"), JsonNumber.Select(v => $"\"n\":{v}"),
            JsonNumber.Select(v => $"\"f\":{v}"), Choose("true", "false").Select(v => $"\"t\":{v}"),
            JsonArray(Gen.Frequency((3, JsonScalar), (1, JsonObject), (1, JsonArray(JsonScalar)))).Select(v => $"\"arr\":{v}"),
            JsonArray(JsonObject).Select(v => $"\"people\":{v}"), JsonArray(JsonArray(JsonScalar)).Select(v => $"\"nested\":{v}"),
            JsonObject.Select(v => $"\"o\":{v}"),
        }).Select(members => "{" + string.Join(",", members) + "}");
}
