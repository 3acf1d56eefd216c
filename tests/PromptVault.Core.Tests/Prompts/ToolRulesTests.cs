using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Prompts;

/// <summary>Tools and response formats in a version's metadata: their shape (MetadataRules) and their schemas (ToolSchemaRules).</summary>
public sealed class ToolRulesTests
{
    private const string SearchParameters = """{ "type": "object", "properties": { "query": { "type": "string" } }, "required": ["query"] }""";

    private static ToolDefinition Tool(string name, string parameters = SearchParameters) => new(name, "Finds things", Json(parameters));

    private static void ValidateAll(PromptMetadata metadata)
    {
        MetadataRules.Validate(metadata);
        ToolSchemaRules.Validate(metadata);
    }

    [Fact]
    public void Validate_ValidToolsAndResponseFormat_Accepted()
    {
        var metadata = new PromptMetadata
        {
            Tools = [Tool("search_orders"), Tool("get-weather", """{ "type": "object" }""")],
            ResponseFormat = Json("""{ "type": "object", "properties": { "answer": { "type": "string" } }, "additionalProperties": false }"""),
        };

        var error = Record.Exception(() => ValidateAll(metadata));

        Assert.Null(error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("dot.name")]
    [InlineData("name\n")]
    [InlineData("a123456789a123456789a123456789a123456789a123456789a123456789abcde")] // 65 characters
    public void Validate_InvalidToolName_RefusedNamingTheField(string name)
    {
        var metadata = new PromptMetadata { Tools = [Tool("ok"), Tool(name)] };

        var error = Assert.Throws<InvalidInputException>(() => MetadataRules.Validate(metadata));

        Assert.Equal("invalid_tool_name", error.Code);
        Assert.Equal("metadata.tools[1].name", error.Field);
    }

    [Fact]
    public void Validate_DuplicateToolName_RefusedNamingTheTool()
    {
        var metadata = new PromptMetadata { Tools = [Tool("search"), Tool("lookup"), Tool("search")] };

        var error = Assert.Throws<InvalidInputException>(() => MetadataRules.Validate(metadata));

        Assert.Equal("duplicate_tool", error.Code);
        Assert.Equal("metadata.tools[2].name", error.Field);
        Assert.Contains("'search'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "an array")]
    [InlineData("\"object\"", "a string")]
    [InlineData("""{ "type": "string" }""", "\"type\": \"object\"")]
    [InlineData("""{ "properties": {} }""", "\"type\": \"object\"")]
    public void Validate_ParametersNotAnObjectSchema_RefusedNamingTheTool(string parameters, string problem)
    {
        var metadata = new PromptMetadata { Tools = [Tool("search", parameters)] };

        var error = Assert.Throws<InvalidInputException>(() => MetadataRules.Validate(metadata));

        Assert.Equal("invalid_schema", error.Code);
        Assert.Equal("metadata.tools[0].parameters", error.Field);
        Assert.Contains("tool 'search'", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingParameters_Refused()
    {
        var metadata = new PromptMetadata { Tools = [new ToolDefinition("search", null, null)] };

        var error = Assert.Throws<InvalidInputException>(() => MetadataRules.Validate(metadata));

        Assert.Equal("metadata.tools[0].parameters", error.Field);
    }

    [Fact]
    public void Validate_TooManyTools_Refused()
    {
        var metadata = new PromptMetadata { Tools = Enumerable.Range(0, MetadataRules.MaxTools + 1).Select(i => Tool($"t{i}")).ToList() };

        var error = Assert.Throws<InvalidInputException>(() => MetadataRules.Validate(metadata));

        Assert.Equal("metadata.tools", error.Field);
    }

    [Fact]
    public void Validate_ResponseFormatNotAnObject_Refused()
    {
        var metadata = new PromptMetadata { ResponseFormat = Json("[1, 2]") };

        var error = Assert.Throws<InvalidInputException>(() => MetadataRules.Validate(metadata));

        Assert.Equal("metadata.responseFormat", error.Field);
    }

    [Fact]
    public void ValidateSchemas_ParametersBreakMetaSchema_RefusedNamingToolAndLocation()
    {
        var metadata = new PromptMetadata
        {
            Tools = [Tool("search"), Tool("lookup", """{ "type": "object", "properties": { "id": { "type": "integr" } } }""")],
        };

        var error = Assert.Throws<InvalidInputException>(() => ValidateAll(metadata));

        Assert.Equal("invalid_schema", error.Code);
        Assert.Equal("metadata.tools[1].parameters", error.Field);
        Assert.Contains("tool 'lookup'", error.Message, StringComparison.Ordinal);
        Assert.Contains("/properties/id/type", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "type": "object", "required": "answer" }""", "/required")]
    [InlineData("""{ "type": "object", "minProperties": -1 }""", "/minProperties")]
    public void ValidateSchemas_ResponseFormatBreaksMetaSchema_RefusedNamingLocation(string schema, string location)
    {
        var metadata = new PromptMetadata { ResponseFormat = Json(schema) };

        var error = Assert.Throws<InvalidInputException>(() => ValidateAll(metadata));

        Assert.Equal("metadata.responseFormat", error.Field);
        Assert.Contains(location, error.Message, StringComparison.Ordinal);
    }

    // Valid against the meta-schema, but no validator can be built from it: every jsonSchema check of the version was a 500.
    [Theory]
    [InlineData("""{ "type": "object", "properties": { "a": { "type": "string", "pattern": "(" } } }""")]
    public void ValidateSchemas_ResponseFormatThatCannotBeBuilt_Refused(string schema)
    {
        var metadata = new PromptMetadata { ResponseFormat = Json(schema) };

        var error = Assert.Throws<InvalidInputException>(() => ValidateAll(metadata));

        Assert.Equal("invalid_schema", error.Code);
        Assert.Equal("metadata.responseFormat", error.Field);
        Assert.StartsWith("metadata.responseFormat (the response format) is not a usable JSON Schema: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_NullToolsAndResponseFormat_ReadAsAbsent()
    {
        var metadata = JsonSerializer.Deserialize<PromptMetadata>("""{ "model": "m", "tools": null, "responseFormat": null }""", PromptVaultJson.Options)!;

        var error = Record.Exception(() => ValidateAll(metadata));

        Assert.Null(error);
        Assert.Null(metadata.Tools);
        Assert.Null(metadata.ResponseFormat);
    }

    [Fact]
    public void SameAs_ToolSchemaChanged_IsAChange()
    {
        var before = new PromptMetadata { Tools = [Tool("search")] };
        var after = new PromptMetadata { Tools = [Tool("search", """{ "type": "object" }""")] };

        var same = new VersionBody("x", [], before).SameAs(new VersionBody("x", [], after));
        var sameAgain = new VersionBody("x", [], before).SameAs(new VersionBody("x", [], new PromptMetadata { Tools = [Tool("search")] }));

        Assert.False(same);
        Assert.True(sameAgain);
    }
}
