using System.Text.Json;
using PromptVault.Cli.PromptFiles;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;

namespace PromptVault.Cli.Tests;

/// <summary>Reading and writing prompt files: front matter keys, YAML scalar typing, the template body, and the round trip.</summary>
public sealed class PromptFileTests
{
    [Fact]
    public void Parse_FullFile_ReadsEveryKey()
    {
        var file = PromptFileReader.Parse("""
            ---
            name: customer-support
            type: few-shot
            description: Support prompt
            tags: [support, chat]
            category: help
            variables:
              - name: company_name
                type: string
                description: The company
                required: true
                validation: "^[A-Z]"
              - name: max_items
                type: number
                defaultValue: 5
            metadata:
              model: gpt-4o
              temperature: 0.7
              maxTokens: 500
              topP: 1
              frequencyPenalty: -0.5
              presencePenalty: 0.25
              tags: [prod]
              category: support
            ---
            Hello {{company_name}}
            """, "p.md");

        Assert.Equal("customer-support", file.Name);
        Assert.Equal(PromptType.FewShot, file.Type);
        Assert.Equal("Support prompt", file.Description);
        Assert.Equal(["support", "chat"], file.Tags);
        Assert.Equal("help", file.Category);
        Assert.Equal(new VariableDefinition("company_name", VariableType.String, "The company", true, null, "^[A-Z]"), file.Variables[0]);
        Assert.Equal(VariableType.Number, file.Variables[1].Type);
        Assert.False(file.Variables[1].Required);
        Assert.Equal("5", file.Variables[1].DefaultValue!.Value.GetRawText());
        Assert.Equal("gpt-4o", file.Metadata.Model);
        Assert.Equal(0.7, file.Metadata.Temperature);
        Assert.Equal(500, file.Metadata.MaxTokens);
        Assert.Equal(1, file.Metadata.TopP);
        Assert.Equal(-0.5, file.Metadata.FrequencyPenalty);
        Assert.Equal(0.25, file.Metadata.PresencePenalty);
        Assert.Equal(["prod"], file.Metadata.Tags!);
        Assert.Equal("support", file.Metadata.Category);
        Assert.Equal("Hello {{company_name}}", file.Content);
    }

    [Theory]
    [InlineData("string", "42", "\"42\"")]
    [InlineData("string", "yes", "\"yes\"")]
    [InlineData("string", "true", "\"true\"")]
    [InlineData("string", "\"quoted\"", "\"quoted\"")]
    [InlineData("number", "42", "42")]
    [InlineData("number", "1.50", "1.50")]
    [InlineData("number", "-3e2", "-3e2")]
    [InlineData("number", "+7", "7")]
    [InlineData("number", "\"42\"", "\"42\"")]
    [InlineData("boolean", "true", "true")]
    [InlineData("boolean", "False", "false")]
    [InlineData("array", "[]", "[]")]
    [InlineData("array", "[a, 2, true, \"3\", ~]", "[\"a\",2,true,\"3\",null]")]
    [InlineData("array", "\n      - role: user\n        content: Hi", "[{\"role\":\"user\",\"content\":\"Hi\"}]")]
    [InlineData("object", "{ a: 1, b: { c: [x] } }", "{\"a\":1,\"b\":{\"c\":[\"x\"]}}")]
    public void Parse_DefaultValue_BecomesJsonOfTheDeclaredType(string type, string yaml, string expectedJson)
    {
        var file = PromptFileReader.Parse($"---\nname: p\nvariables:\n  - name: v\n    type: {type}\n    defaultValue: {yaml}\n---\n{{{{v}}}}\n", "p.md");

        Assert.Equal(expectedJson, file.Variables[0].DefaultValue!.Value.GetRawText());
    }

    [Fact]
    public void Parse_NullDefault_IsNoDefault()
    {
        var file = PromptFileReader.Parse("---\nname: p\nvariables:\n  - name: v\n    defaultValue: ~\n---\n{{v}}\n", "p.md");

        Assert.Null(file.Variables[0].DefaultValue);
        Assert.Equal(VariableType.String, file.Variables[0].Type);
    }

    [Fact]
    public void Parse_Body_DropsOneLeadingBlankLineAndTrailingWhitespaceAndNormalizesLineEndings()
    {
        var file = PromptFileReader.Parse("---\r\nname: p\r\n---\r\n\r\n\r\n  First line\r\nSecond line  \r\n\r\n", "p.md");

        Assert.Equal("\n  First line\nSecond line", file.Content);
        Assert.Empty(file.Variables);
        Assert.Equal(PromptMetadata.Empty, file.Metadata);
        Assert.Null(file.Type);
    }

    [Fact]
    public void Parse_TemplateError_NamesTheFilesLineAndColumn()
    {
        // The server counts lines from the template's start ("line 3, column 4" for the file's line 8); the file's reader counts the file's.
        var error = PromptFileReader.Parse(
            "---\nname: p\nvariables:\n  - name: x\n---\n\nFirst.\nSecond.\nThe {{#if x}}end.\n", "p.md").TemplateProblem!;
        var unclosedTag = PromptFileReader.Parse("---\nname: p\n---\nA\n  b {{x\n", "p.md").TemplateProblem!;

        Assert.Equal("p.md: line 9, column 5: content is not a valid template: '{{#if}}' is never closed with '{{/if}}'.", error.Message);
        Assert.Equal("p.md: line 5, column 5: content is not a valid template: a tag is never closed with '}}'.", unclosedTag.Message);
    }

    [Fact]
    public void Parse_UndeclaredVariableOrLiteralTag_NamesTheFilesLineAndColumn()
    {
        // The server's refusals had no place at all; the reader now refuses them with the file's line.
        var unknown = PromptFileReader.Parse(
            "---\nname: p\nvariables:\n  - name: who\n---\n\nHi {{who}}.\nYour order {{ordr}} ships.\n", "p.md").TemplateProblem!;
        var literal = PromptFileReader.Parse("---\nname: p\n---\nA\n  b {{1}}\n", "p.md").TemplateProblem!;

        Assert.Equal("p.md: line 8, column 12: content references 'ordr', which is not a declared variable; declare it in variables or fix the name.",
            unknown.Message);
        Assert.StartsWith("p.md: line 5, column 5: content is not a valid template: '{{1}}' writes a literal", literal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OnlyCarriageReturnLineEndings_ReadsLikeLineFeeds()
    {
        // A file saved with classic Mac OS line ends (CR only) was refused as 'the front matter is not closed'.
        var file = PromptFileReader.Parse("---\rname: p\rvariables:\r  - name: who\r---\r\rHello {{who}}.\rBye.\r", "p.md");

        Assert.Equal("p", file.Name);
        Assert.Equal("who", Assert.Single(file.Variables).Name);
        Assert.Equal("Hello {{who}}.\nBye.", file.Content);
    }

    [Theory]
    [InlineData("name: p\n---\nbody", "no front matter")]
    [InlineData("---\nname: p\nbody", "not closed")]
    [InlineData("---\n---\nbody", "front matter is empty")]
    [InlineData("---\ntype: system\n---\nbody", ": name: is required")]
    [InlineData("---\nname: p\n---\n\n  \n", "template is empty")]
    [InlineData("---\nname: p\nmodel: gpt-4o\n---\nbody", "model (line 3): unknown key; the keys are name, type")]
    [InlineData("---\nname: p\nVariables: []\n---\nbody", "did you mean 'variables'")]
    [InlineData("---\nname: p\ntype: chatbot\n---\nbody", "type (line 3): 'chatbot' is not one of system, user, assistant, few-shot, template")]
    [InlineData("---\nname: p\nvariables:\n  - name: v\n    required: yes\n---\nbody", "variables[0].required (line 5): must be true or false, not 'yes'")]
    [InlineData("---\nname: p\nvariables:\n  - type: string\n---\nbody", "variables[0].name")]
    [InlineData("---\nname: p\nvariables:\n  - name: v\n    default: 1\n---\nbody", "variables[0].default (line 5): unknown key")]
    [InlineData("---\nname: p\nvariables: company_name\n---\nbody", "variables (line 3): must be a list")]
    [InlineData("---\nname: p\ntests:\n  - name: t\n    expect:\n      - { type: contains, value: x, targt: output }\n---\nbody", "tests[0].expect[0].targt (line 6): unknown key; the keys are type, value, target, rubric, passingScore.")]
    [InlineData("---\nname: p\ntests:\n  - name: t\n    Expect: []\n---\nbody", "tests[0].Expect (line 5): unknown key; did you mean 'expect'?")]
    [InlineData("---\nname: p\nmetadata:\n  temperature: hot\n---\nbody", "metadata.temperature (line 4): must be a number, not 'hot'")]
    [InlineData("---\nname: p\nmetadata:\n  maxTokens: 1.5\n---\nbody", "metadata.maxTokens (line 4): must be a whole number")]
    [InlineData("---\nname: p\ntags: support\n---\nbody", "tags (line 3): must be a list")]
    [InlineData("---\nname: [p\n---\nbody", "not valid YAML (line 3)")]
    [InlineData("---\nname: p\nname: q\n---\nbody", "not valid YAML")]
    public void Parse_BadFile_NamesTheFileAndTheProblem(string text, string expected)
    {
        var error = Assert.Throws<PromptFileException>(() => PromptFileReader.Parse(text, "prompts/p.md"));

        Assert.StartsWith("prompts/p.md: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void WriteThenParse_AwkwardValues_RoundTripExactly()
    {
        var metadata = new PromptMetadata
        {
            Model = "gpt-4o: mini",
            Temperature = 0.1 + 0.2,
            MaxTokens = 256,
            TopP = 1e-5,
            FrequencyPenalty = -2,
            Tags = [],
            Category = "yes",
        };
        VariableDefinition[] variables =
        [
            new("quote", VariableType.String, "Say \"hi\" # not a comment\nnext line\ttab", true, Json("\"a: b\\\\c 😀 é\""), "^\\d+$"),
            new("count", VariableType.Number, null, false, Json("1.50")),
            new("flag", VariableType.Boolean, "", false, Json("false")),
            new("items", VariableType.Array, "- starts with a dash", false, Json("""["true", 1, null, {"k": ["v"]}, "[x]"]""")),
            new("options", VariableType.Object, "null", false, Json("""{"a b": {}, "": []}""")),
        ];
        var version = new VersionResponse("v1", "team/awkward", "1.2.3", "\n{{quote}} ---\n---\n{{count}} {{flag}} {{items}} {{options}}", variables, metadata,
            "change", "admin", DateTimeOffset.UnixEpoch, VersionStatus.Production, ["production"]);
        var prompt = new PromptResponse("p1", "team/awkward", "It's: \"odd\"", PromptType.FewShot, ["a, b", "true"], "cat",
            DateTimeOffset.UnixEpoch, "admin", DateTimeOffset.UnixEpoch, "admin", new Dictionary<string, string> { ["production"] = "1.2.3" }, version);

        var text = PromptFileWriter.Write(prompt, version);
        var file = PromptFileReader.Parse(text, "pulled.md");

        Assert.Equal(version.Content, file.Content);
        Assert.Equal(Canonical(version.Variables.ToList()), Canonical(file.Variables.ToList()));
        Assert.Equal(Canonical(version.Metadata), Canonical(file.Metadata));
        Assert.Equal("team/awkward", file.Name);
        Assert.Equal(PromptType.FewShot, file.Type);
        Assert.Equal(prompt.Description, file.Description);
        Assert.Equal(prompt.Tags, file.Tags);
        Assert.Equal("cat", file.Category);
    }

    [Fact]
    public void WriteThenParse_ToolsAndResponseFormat_RoundTripExactly()
    {
        var metadata = new PromptMetadata
        {
            Model = "gpt-4o",
            Tools =
            [
                new ToolDefinition("lookup_order", "Finds: an order # by id", Json("""
                    {"type":"object","properties":{"id":{"type":"string","enum":["yes","no","1.50"]},"count":{"type":"number","minimum":1.50,"maximum":1e3}},"required":["id"],"additionalProperties":false}
                    """)),
                new ToolDefinition("ping", null, Json("""{"type":"object","properties":{}}""")),
            ],
            ResponseFormat = Json("""{"title":"answer","type":"object","properties":{"a b":{"type":["string","null"],"description":"x: \"y\""}}}"""),
        };
        var version = new VersionResponse("v1", "tools", "1.0.0", "Use the tools.", [], metadata,
            "change", "admin", DateTimeOffset.UnixEpoch, VersionStatus.Draft, []);
        var prompt = new PromptResponse("p1", "tools", "", PromptType.System, [], null,
            DateTimeOffset.UnixEpoch, "admin", DateTimeOffset.UnixEpoch, "admin", new Dictionary<string, string>(), version);

        var text = PromptFileWriter.Write(prompt, version);
        var file = PromptFileReader.Parse(text, "pulled.md");

        Assert.Equal(Canonical(version.Metadata), Canonical(file.Metadata));
        Assert.Contains("  tools:\n    - name: lookup_order\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HandWrittenToolsInBlockYaml_ReadAsJsonSchemas()
    {
        var file = PromptFileReader.Parse("""
            ---
            name: p
            metadata:
              tools:
                - name: lookup_order
                  description: Finds an order
                  parameters:
                    type: object
                    properties:
                      id: { type: string }
                      count: { type: integer, minimum: 1 }
                    required: [id]
              responseFormat:
                type: object
                properties:
                  reply:
                    type: string
            ---
            Body
            """, "p.md");

        var tool = Assert.Single(file.Metadata.Tools!);
        Assert.Equal("lookup_order", tool.Name);
        Assert.Equal("Finds an order", tool.Description);
        Assert.Equal("""{"type":"object","properties":{"id":{"type":"string"},"count":{"type":"integer","minimum":1}},"required":["id"]}""",
            tool.Parameters!.Value.GetRawText());
        Assert.Equal("""{"type":"object","properties":{"reply":{"type":"string"}}}""", file.Metadata.ResponseFormat!.Value.GetRawText());
    }

    [Theory]
    [InlineData("  tools: lookup\n", "metadata.tools (line 4): must be a list of tools (- name: ..., description: ..., parameters: ...).")]
    [InlineData("  tools:\n    - description: x\n", "metadata.tools[0].name (line 5): is required.")]
    [InlineData("  tools:\n    - name: x\n      params: {}\n", "metadata.tools[0].params (line 6): unknown key; the keys are name, description, parameters.")]
    public void Parse_BadTools_NamesTheKey(string tools, string expected)
    {
        var error = Assert.Throws<PromptFileException>(() => PromptFileReader.Parse($"---\nname: p\nmetadata:\n{tools}---\nBody\n", "p.md"));

        Assert.Equal($"p.md: {expected}", error.Message);
    }

    [Fact]
    public void Write_SimplePrompt_IsReadableYaml()
    {
        var version = new VersionResponse("v1", "greeting", "1.0.0", "Hello {{who}}",
            [new VariableDefinition("who", VariableType.String, "Who to greet", true)], new PromptMetadata { Model = "gpt-4o", Temperature = 0.7 },
            "Initial version", "admin", DateTimeOffset.UnixEpoch, VersionStatus.Draft, []);
        var prompt = new PromptResponse("p1", "greeting", "Greets people", PromptType.User, [], null,
            DateTimeOffset.UnixEpoch, "admin", DateTimeOffset.UnixEpoch, "admin", new Dictionary<string, string>(), version);

        var text = PromptFileWriter.Write(prompt, version);

        Assert.Equal("""
            ---
            # greeting 1.0.0
            name: greeting
            type: user
            description: Greets people
            variables:
              - name: who
                type: string
                description: Who to greet
                required: true
            metadata:
              model: gpt-4o
              temperature: 0.7
            ---
            Hello {{who}}

            """, text);
    }

    private static JsonElement Json(string json) => JsonElement.Parse(json);

    private static string Canonical<T>(T value) => JsonSerializer.Serialize(value, PromptVaultJson.Options);
}
