using System.Globalization;
using System.Text.Json;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PromptVault.Cli.PromptFiles;

/// <summary>
/// Reads prompt files (see <see cref="PromptFile"/>). Line endings (<c>\r\n</c>, <c>\r</c>) become <c>\n</c>; the template is the text after the
/// closing <c>---</c> line, less one leading blank line and trailing whitespace. Unknown keys are refused so typos surface.
/// </summary>
internal static class PromptFileReader
{
    private const string Delimiter = "---";
    private static readonly TemplateEngine Templates = new();

    /// <summary>
    /// Reads <paramref name="text"/>. A template the server would refuse is not refused here but recorded (<see cref="PromptFile.TemplateProblem"/>):
    /// a version saved before a rule was added may break it, and a file that says the same as that version is still pushed unchanged.
    /// </summary>
    /// <exception cref="PromptFileException">The file has no or bad front matter, or an empty template.</exception>
    public static PromptFile Parse(string text, string fileName)
    {
        // CRLF (Windows) and a lone CR (classic Mac OS) both end lines.
        text = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').TrimStart('\uFEFF');
        // The lines are found in place, not split out: a file of tens of MB is copied once, into its template.
        var firstEnd = LineEnd(text, 0);
        if (!IsDelimiter(text, 0, firstEnd))
            throw Problem(fileName, "no front matter: the file must start with a '---' line, then YAML (name, type, variables, ...), then a '---' line, then the template.");
        var (close, closeStart, closeEnd) = (1, firstEnd + 1, 0);
        while (true)
        {
            if (closeStart > text.Length)
                throw Problem(fileName, "the front matter is not closed: add a '---' line between the YAML and the template.");
            closeEnd = LineEnd(text, closeStart);
            if (IsDelimiter(text, closeStart, closeEnd)) break;
            (close, closeStart) = (close + 1, closeEnd + 1);
        }

        var yaml = close == 1 ? "" : text[(firstEnd + 1)..(closeStart - 1)];
        var bodyStart = Math.Min(closeEnd + 1, text.Length);
        var bodyLine = close + 2;
        if (bodyStart < text.Length && text[bodyStart] == '\n')
        {
            bodyStart++;
            bodyLine++;
        }
        var body = text.AsSpan(bodyStart).TrimEnd().ToString();
        if (body.Length == 0)
            throw Problem(fileName, "the template is empty: write it after the closing '---' line.", "missing_content");

        var front = Load(yaml, fileName);
        PromptFile file;
        var messageSources = new List<ChatMarkdown.Source>();
        try
        {
            file = Read(front, body, bodyLine, messageSources);
        }
        catch (InvalidInputException e)
        {
            throw Problem(fileName, $"the chat messages: {e.Message}", e.Code);
        }
        catch (FrontMatterException e)
        {
            var line = e.Node is null ? "" : $" (line {e.Node.Start.Line + 1})";
            throw Problem(fileName, $"{e.Path}{line}: {e.Message}", e.Code);
        }
        catch (YamlException e)
        {
            // A value that cannot become JSON (YamlJson.ToJson).
            throw Problem(fileName, $"the front matter (line {e.Start.Line + 1}): {YamlMessage(e)}");
        }
        if (file.Messages is not { } messages)
            return file with { TemplateProblem = CheckTemplate(file.Content, file.Variables, new ChatMarkdown.Source(bodyLine, new HashSet<int>()), fileName, "") };
        var problem = Enumerable.Range(0, messages.Count)
            .Where(i => messages[i].Role != MessageRole.Placeholder)
            .Select(i => CheckTemplate(messages[i].Content, file.Variables, messageSources[i], fileName, $" (messages[{i}], {Names.Of(messages[i].Role)})"))
            .FirstOrDefault(p => p is not null);
        return file with { TemplateProblem = problem };
    }

    /// <summary>Where the line starting at <paramref name="start"/> ends: its '\n', or the text's end.</summary>
    private static int LineEnd(string text, int start)
    {
        var end = text.IndexOf('\n', start);
        return end < 0 ? text.Length : end;
    }

    private static bool IsDelimiter(string text, int start, int end) => text.AsSpan(start, end - start).TrimEnd().SequenceEqual(Delimiter);

    /// <summary>
    /// Why the server would refuse the template at a place in it, naming the file's line and column (the server's message counts
    /// from the template's start, or the message's); null when it would not. A refusal with no place (a malformed variable) is left
    /// to the server, which names it.
    /// </summary>
    /// <param name="source">Where the template stands in the file.</param>
    /// <param name="message">Which chat message the template is, after the position; empty for a text prompt.</param>
    private static PromptFileProblem? CheckTemplate(string template, IReadOnlyList<VariableDefinition> variables, ChatMarkdown.Source source, string fileName, string message)
    {
        try
        {
            Templates.Validate(template, variables);
            return null;
        }
        catch (InvalidInputException e) when (e.Location is { } at)
        {
            var (line, column) = source.InText(at.Line, at.Column);
            return new PromptFileProblem(e.Code, $"{fileName}: line {line}, column {column}{message}: {at.Problem}");
        }
        catch (InvalidInputException)
        {
            return null; // Pushed as it is, so the server's refusal names it with its code.
        }
    }

    private static YamlMappingNode Load(string yaml, string fileName)
    {
        YamlStream stream;
        try
        {
            stream = YamlJson.Load(yaml);
        }
        catch (YamlException e)
        {
            // Front matter starts on the file's second line.
            throw Problem(fileName, $"the front matter is not valid YAML (line {e.Start.Line + 1}): {YamlMessage(e)}");
        }
        if (stream.Documents.Count == 0 || YamlJson.IsNull(stream.Documents[0].RootNode))
            throw Problem(fileName, "the front matter is empty; it needs at least 'name'.");
        if (stream.Documents.Count > 1)
            throw Problem(fileName, "the front matter holds more than one YAML document.");
        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw Problem(fileName, "the front matter must be YAML keys and values (name: ..., type: ...).");
    }

    /// <param name="bodyLine">The file's line the body starts on, for errors in a chat prompt's messages.</param>
    /// <param name="messageSources">Receives where each chat message stands in the file (see <see cref="ChatMarkdown.Parse"/>).</param>
    private static PromptFile Read(YamlMappingNode front, string body, int bodyLine, List<ChatMarkdown.Source> messageSources)
    {
        var fields = Fields(front, PromptFile.Keys, "");
        var name = String(fields, "name", "") ?? throw new FrontMatterException("name", null, "is required: the prompt's name, e.g. customer-support.");
        try
        {
            PromptRules.ValidatePromptName(name);
        }
        catch (InvalidInputException e)
        {
            throw new FrontMatterException("name", fields["name"], e.Message, e.Code);
        }
        var type = Enum<PromptType>(fields, "type", "");
        var variables = fields.TryGetValue("variables", out var variablesNode) && !YamlJson.IsNull(variablesNode)
            ? Variables(variablesNode)
            : [];
        var metadata = fields.TryGetValue("metadata", out var metadataNode) && !YamlJson.IsNull(metadataNode)
            ? Metadata(metadataNode)
            : PromptMetadata.Empty;
        var messages = type == PromptType.Chat ? ChatMarkdown.Parse(body, firstLine: bodyLine, sources: messageSources) : null;
        var tests = fields.TryGetValue("tests", out var testsNode) && !YamlJson.IsNull(testsNode) ? Tests(testsNode) : null;
        return new PromptFile(name, type, String(fields, "description", ""), Strings(fields, "tags", ""), String(fields, "category", ""),
            variables, metadata, messages is null ? body : "", messages, tests, Boolean(fields, "requireApproval", ""), Boolean(fields, "requireTests", ""));
    }

    /// <summary>The test cases in the API's JSON shape (SPEC §10); the server checks them and names the case at fault.</summary>
    private static List<TestCase> Tests(YamlNode node)
    {
        if (node is not YamlSequenceNode)
            throw new FrontMatterException("tests", node, "must be a list of test cases (- name: ..., variables: ..., expect: [...]).");
        CheckTestKeys((YamlSequenceNode)node);
        try
        {
            return JsonSerializer.Deserialize(YamlJson.ToJson(node), PromptVaultJsonContext.Default.ListTestCase) ?? [];
        }
        catch (JsonException e)
        {
            throw new FrontMatterException("tests" + (e.Path?.TrimStart('$') ?? ""), node, $"is not a test case: {e.Message}");
        }
    }

    /// <summary>Refuses an unknown key of a test case or of one of its checks (the JSON would drop it: a misspelt <c>target</c> checked the render).</summary>
    private static void CheckTestKeys(YamlSequenceNode tests)
    {
        for (var i = 0; i < tests.Children.Count; i++)
        {
            if (tests.Children[i] is not YamlMappingNode test) continue;
            var fields = Fields(test, PromptFile.TestKeys, $"tests[{i}].");
            if (!fields.TryGetValue("expect", out var expect) || expect is not YamlSequenceNode checks) continue;
            for (var j = 0; j < checks.Children.Count; j++)
                if (checks.Children[j] is YamlMappingNode check)
                    Fields(check, PromptFile.CheckKeys, $"tests[{i}].expect[{j}].");
        }
    }

    private static List<VariableDefinition> Variables(YamlNode node)
    {
        if (node is not YamlSequenceNode sequence)
            throw new FrontMatterException("variables", node, "must be a list of variables (- name: ..., type: ...).");
        var variables = new List<VariableDefinition>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var path = $"variables[{i}]";
            if (sequence.Children[i] is not YamlMappingNode item)
                throw new FrontMatterException(path, sequence.Children[i], "must be a mapping with name, type, description, required, defaultValue, validation.");
            var fields = Fields(item, PromptFile.VariableKeys, path + ".");
            var name = String(fields, "name", path + ".") ?? throw new FrontMatterException(path + ".name", item, "is required.");
            var type = Enum<VariableType>(fields, "type", path + ".") ?? VariableType.String;
            JsonElement? defaultValue = fields.TryGetValue("defaultValue", out var value) && !YamlJson.IsNull(value)
                ? YamlJson.ToJson(value, plainScalarIsString: type == VariableType.String)
                : null;
            variables.Add(new VariableDefinition(name, type, String(fields, "description", path + "."),
                Boolean(fields, "required", path + ".") ?? false, defaultValue, String(fields, "validation", path + ".")));
        }
        return variables;
    }

    private static PromptMetadata Metadata(YamlNode node)
    {
        if (node is not YamlMappingNode mapping)
            throw new FrontMatterException("metadata", node, "must be a mapping (model: ..., temperature: ...).");
        var fields = Fields(mapping, PromptFile.MetadataKeys, "metadata.");
        const string prefix = "metadata.";
        var maxTokens = Number(fields, "maxTokens", prefix);
        if (maxTokens is { } tokens && (tokens != Math.Floor(tokens) || tokens > int.MaxValue || tokens < int.MinValue))
            throw new FrontMatterException("metadata.maxTokens", fields["maxTokens"], "must be a whole number.");
        return new PromptMetadata
        {
            Model = String(fields, "model", prefix),
            Temperature = Number(fields, "temperature", prefix),
            MaxTokens = maxTokens is null ? null : (int)maxTokens.Value,
            TopP = Number(fields, "topP", prefix),
            FrequencyPenalty = Number(fields, "frequencyPenalty", prefix),
            PresencePenalty = Number(fields, "presencePenalty", prefix),
            Tags = Strings(fields, "tags", prefix),
            Category = String(fields, "category", prefix),
            Tools = Tools(fields),
            ResponseFormat = Json(fields, "responseFormat"),
        };
    }

    /// <summary>The tools; their schemas are YAML read as JSON, and checked by the server when pushed.</summary>
    private static List<ToolDefinition>? Tools(Dictionary<string, YamlNode> metadata)
    {
        if (!metadata.TryGetValue("tools", out var node) || YamlJson.IsNull(node)) return null;
        if (node is not YamlSequenceNode sequence)
            throw new FrontMatterException("metadata.tools", node, "must be a list of tools (- name: ..., description: ..., parameters: ...).");
        var tools = new List<ToolDefinition>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var path = $"metadata.tools[{i}]";
            if (sequence.Children[i] is not YamlMappingNode item)
                throw new FrontMatterException(path, sequence.Children[i], "must be a mapping with name, description, parameters.");
            var fields = Fields(item, PromptFile.ToolKeys, path + ".");
            var name = String(fields, "name", path + ".") ?? throw new FrontMatterException(path + ".name", item, "is required.");
            tools.Add(new ToolDefinition(name, String(fields, "description", path + "."), Json(fields, "parameters")));
        }
        return tools;
    }

    private static JsonElement? Json(Dictionary<string, YamlNode> fields, string key) =>
        fields.TryGetValue(key, out var node) && !YamlJson.IsNull(node) ? YamlJson.ToJson(node) : null;

    /// <summary>The mapping's entries by key; an unknown key is refused, listing the known ones.</summary>
    private static Dictionary<string, YamlNode> Fields(YamlMappingNode mapping, string[] known, string prefix)
    {
        var fields = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!known.Contains(key, StringComparer.Ordinal))
            {
                var close = known.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));
                throw new FrontMatterException(prefix + key, keyNode,
                    close is not null ? $"unknown key; did you mean '{close}'?" : $"unknown key; the keys are {string.Join(", ", known)}.", "unknown_field");
            }
            fields[key] = value;
        }
        return fields;
    }

    private static string? String(Dictionary<string, YamlNode> fields, string key, string prefix)
    {
        if (!fields.TryGetValue(key, out var node) || YamlJson.IsNull(node)) return null;
        return node is YamlScalarNode { Value: { } text } ? text
            : throw new FrontMatterException(prefix + key, node, "must be text, not a list or mapping.");
    }

    private static List<string>? Strings(Dictionary<string, YamlNode> fields, string key, string prefix)
    {
        if (!fields.TryGetValue(key, out var node) || YamlJson.IsNull(node)) return null;
        if (node is not YamlSequenceNode sequence)
            throw new FrontMatterException(prefix + key, node, "must be a list, e.g. [support, chat].");
        return sequence.Children.Select((item, i) => item is YamlScalarNode { Value: { } text } && !YamlJson.IsNull(item) ? text
            : throw new FrontMatterException($"{prefix}{key}[{i}]", item, "must be text.")).ToList();
    }

    private static TEnum? Enum<TEnum>(Dictionary<string, YamlNode> fields, string key, string prefix) where TEnum : struct, Enum
    {
        var text = String(fields, key, prefix);
        if (text is null) return null;
        return Names.TryParse<TEnum>(text, out var value) ? value
            : throw new FrontMatterException(prefix + key, fields[key], $"'{text}' is not one of {Names.AllOf<TEnum>()}.");
    }

    private static bool? Boolean(Dictionary<string, YamlNode> fields, string key, string prefix)
    {
        if (!fields.TryGetValue(key, out var node) || YamlJson.IsNull(node)) return null;
        var value = node is YamlScalarNode scalar && YamlJson.IsPlain(scalar) ? YamlJson.ToJson(scalar) : default;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FrontMatterException(prefix + key, node, $"must be true or false, not '{(node as YamlScalarNode)?.Value}'."),
        };
    }

    private static double? Number(Dictionary<string, YamlNode> fields, string key, string prefix)
    {
        if (!fields.TryGetValue(key, out var node) || YamlJson.IsNull(node)) return null;
        var value = node is YamlScalarNode scalar && YamlJson.IsPlain(scalar) ? YamlJson.ToJson(scalar) : default;
        return value.ValueKind == JsonValueKind.Number && double.TryParse(value.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new FrontMatterException(prefix + key, node, $"must be a number, not '{(node as YamlScalarNode)?.Value ?? node.NodeType.ToString()}'.");
    }

    /// <summary>YamlDotNet prefixes its messages with the position, which the caller already reports.</summary>
    private static string YamlMessage(YamlException e)
    {
        var message = (e.InnerException as YamlException)?.Message ?? e.Message;
        var at = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && at >= 0 ? message[(at + 3)..] : message;
    }

    private static PromptFileException Problem(string fileName, string problem, string code = InvalidFrontMatter) => new($"{fileName}: {problem}", code);

    /// <summary>The <c>--json</c> code of a file whose front matter cannot be read at all, or holds a field the server has no code for.</summary>
    private const string InvalidFrontMatter = "invalid_front_matter";

    /// <summary>The server's code for a refused value at <paramref name="path"/> (<c>variables[0].type</c>), where it has one.</summary>
    private static string CodeOf(string path) => path.Split('.', '[')[0] switch
    {
        "name" => "invalid_name",
        "type" => "invalid_type",
        "tags" => "invalid_tag",
        "variables" => "invalid_variable",
        "tests" => "invalid_test",
        "metadata" when path.StartsWith("metadata.tools", StringComparison.Ordinal) => "invalid_tool",
        "metadata" when path.StartsWith("metadata.tags", StringComparison.Ordinal) => "invalid_tag",
        "metadata" => "invalid_metadata",
        _ => InvalidFrontMatter,
    };

    /// <param name="code">The server's code for the same problem; by default the one for a value at <paramref name="path"/>.</param>
    private sealed class FrontMatterException(string path, YamlNode? node, string message, string? code = null) : Exception(message)
    {
        public string Path { get; } = path;
        public YamlNode? Node { get; } = node;
        public string Code { get; } = code ?? CodeOf(path);
    }
}
