using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PromptVault.Server.Hosting;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace PromptVault.Cli.PromptFiles;

/// <summary>
/// Converts YAML nodes to JSON values. YamlDotNet's representation model keeps every scalar as text, so plain (unquoted)
/// scalars are resolved here by the YAML 1.2 core schema: <c>null</c>/<c>~</c>, <c>true</c>/<c>false</c>, integers and
/// floats; quoted, literal and folded scalars are always strings.
/// Front matter is hostile input: nesting is bounded while the YAML is read (YamlDotNet builds nodes recursively, so deep
/// nesting overflowed the stack), and aliases are bounded while they are expanded (an alias inside its own anchor never
/// ends; anchors of anchors grow exponentially).
/// </summary>
internal static partial class YamlJson
{
    private const string StringTag = "tag:yaml.org,2002:str";

    [GeneratedRegex("^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?$")]
    private static partial Regex JsonNumber();

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex YamlInteger();

    [GeneratedRegex("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex YamlFloat();

    /// <summary>The deepest nesting of lists and mappings read or converted; JSON bodies are read no deeper.</summary>
    public const int MaxDepth = 64;

    /// <summary>The most JSON one value may expand to: no more than the server takes in a whole request body.</summary>
    private const long MaxJsonBytes = ServerDefaults.MaxRequestBodyBytes;

    /// <summary>Reads <paramref name="yaml"/>, refusing nesting deeper than <see cref="MaxDepth"/> before it is built.</summary>
    /// <exception cref="YamlException">The YAML does not parse or nests too deep.</exception>
    public static YamlStream Load(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new DepthLimitedParser(new Parser(new StringReader(yaml))));
        return stream;
    }

    /// <summary>The JSON value of <paramref name="node"/>.</summary>
    /// <exception cref="YamlException">The value nests deeper than <see cref="MaxDepth"/> or expands past 8 MB (through aliases),
    /// or has a key that is not text.</exception>
    /// <param name="plainScalarIsString">Read a top-level plain scalar as a string (for a <c>string</c> variable's
    /// default, where <c>42</c> or <c>yes</c> means the text); null (<c>~</c>) stays null.</param>
    public static JsonElement ToJson(YamlNode node, bool plainScalarIsString = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            Write(writer, node, plainScalarIsString, depth: 0);
        // Not a second limit (Write refuses the depth first): the parse must take all Write wrote, which the parser's own default
        // (64, equal today) would refuse once MaxDepth is raised.
        using var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = MaxDepth });
        return document.RootElement.Clone();
    }

    /// <summary>Whether a scalar is YAML null: an empty plain value, <c>~</c> or <c>null</c>.</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode scalar && IsPlain(scalar) && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>Whether a scalar was written unquoted (and not tagged <c>!!str</c>), so its type is resolved from its text.</summary>
    public static bool IsPlain(YamlScalarNode scalar) =>
        scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && (scalar.Tag.IsEmpty || scalar.Tag.Value != StringTag);

    private static void Write(Utf8JsonWriter writer, YamlNode node, bool plainScalarIsString, int depth)
    {
        if (depth >= MaxDepth)
            throw new YamlException(node.Start, node.End, $"the value nests deeper than {MaxDepth} levels (an alias inside its own anchor?).");
        if (writer.BytesCommitted + writer.BytesPending > MaxJsonBytes)
            throw new YamlException(node.Start, node.End, $"the value expands to more than {MaxJsonBytes / (1024 * 1024)} MB (aliases repeating aliases?).");
        switch (node)
        {
            case YamlScalarNode scalar:
                WriteScalar(writer, scalar, plainScalarIsString);
                break;
            case YamlSequenceNode sequence:
                writer.WriteStartArray();
                foreach (var item in sequence) Write(writer, item, plainScalarIsString: false, depth + 1);
                writer.WriteEndArray();
                break;
            case YamlMappingNode mapping:
                writer.WriteStartObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                        throw new YamlException(key.Start, key.End, "mapping keys must be plain text.");
                    writer.WritePropertyName(name);
                    Write(writer, value, plainScalarIsString: false, depth + 1);
                }
                writer.WriteEndObject();
                break;
            default:
                throw new YamlException(node.Start, node.End, $"unsupported YAML node {node.NodeType}.");
        }
    }

    private static void WriteScalar(Utf8JsonWriter writer, YamlScalarNode scalar, bool plainScalarIsString)
    {
        var text = scalar.Value ?? "";
        if (IsNull(scalar))
        {
            writer.WriteNullValue();
            return;
        }
        if (!IsPlain(scalar) || plainScalarIsString)
        {
            writer.WriteStringValue(text);
            return;
        }
        switch (text)
        {
            case "true" or "True" or "TRUE":
                writer.WriteBooleanValue(true);
                return;
            case "false" or "False" or "FALSE":
                writer.WriteBooleanValue(false);
                return;
        }
        if (JsonNumber().IsMatch(text))
        {
            writer.WriteRawValue(text); // keeps the number exactly as written (1.50 stays 1.50)
            return;
        }
        if (YamlInteger().IsMatch(text) && decimal.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            writer.WriteNumberValue(integer);
            return;
        }
        if (text.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
        {
            writer.WriteNumberValue(hex);
            return;
        }
        if (YamlFloat().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            writer.WriteNumberValue(number);
            return;
        }
        writer.WriteStringValue(text);
    }

    /// <summary>Passes a parser's events on, refusing a list or mapping nested deeper than <see cref="MaxDepth"/>.</summary>
    private sealed class DepthLimitedParser(IParser parser) : IParser
    {
        private int depth;

        public ParsingEvent? Current => parser.Current;

        public bool MoveNext()
        {
            if (!parser.MoveNext()) return false;
            switch (parser.Current)
            {
                case SequenceStart or MappingStart when ++depth > MaxDepth:
                    throw new YamlException(parser.Current.Start, parser.Current.End, $"lists and mappings nest deeper than {MaxDepth} levels.");
                case SequenceEnd or MappingEnd:
                    depth--;
                    break;
            }
            return true;
        }
    }
}
