using System.Text.Json;
using Json.Schema;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Registry;

/// <summary>
/// Checks that a version's tool parameters and response format are valid JSON Schemas (draft 2020-12 meta-schema), so a
/// schema a provider would refuse is refused when the version is saved, naming the tool and what is wrong. Lives in the
/// server's services beside the other save rules, not in <see cref="MetadataRules"/>: Core ships inside the client SDK,
/// whose dependencies stay few, and the SDK only reads versions the server has already checked.
/// </summary>
public static class ToolSchemaRules
{
    private static readonly EvaluationOptions Hierarchical = new() { OutputFormat = OutputFormat.Hierarchical };

    /// <summary>Call after <see cref="MetadataRules.Validate"/>, which checks each schema is an object.</summary>
    /// <exception cref="InvalidInputException">A schema breaks the meta-schema (<c>invalid_schema</c>).</exception>
    public static void Validate(PromptMetadata metadata)
    {
        var tools = metadata.Tools ?? [];
        for (var i = 0; i < tools.Count; i++)
        {
            if (tools[i].Parameters is { } parameters)
                Check(parameters, $"metadata.tools[{i}].parameters", $"tool '{tools[i].Name}'");
        }
        if (metadata.ResponseFormat is { ValueKind: JsonValueKind.Object } responseFormat)
            Check(responseFormat, "metadata.responseFormat", "the response format");
    }

    private static void Check(JsonElement schema, string field, string what)
    {
        var results = MetaSchemas.Draft202012.Evaluate(schema, Hierarchical);
        if (results.IsValid)
        {
            // The meta-schema leaves out what only building finds, such as a pattern that is no regex. (A $ref that resolves to
            // nothing shows only when an evaluation reaches it; JsonSchemaCheck reports it then.)
            if (Unbuildable(schema) is { } reason)
                throw new InvalidInputException("invalid_schema", $"{field} ({what}) is not a usable JSON Schema: {reason}", field);
            return;
        }
        var problem = Cause(results) ?? results;
        var at = problem.InstanceLocation.ToString();
        var message = problem.Errors is { Count: > 0 } errors ? string.Join("; ", errors.Values) : "it does not match the JSON Schema meta-schema";
        throw new InvalidInputException("invalid_schema",
            $"{field} ({what}) is not a valid JSON Schema: {(at.Length == 0 ? "" : $"at '{at}': ")}{message}", field);
    }

    /// <summary>Builds a schema that passed the meta-schema, in a registry of its own (a schema with an <c>$id</c> would otherwise
    /// clash with the same one built before).</summary>
    /// <exception cref="JsonSchemaException">It cannot be built; see <see cref="IsBuildFailure"/> for the exceptions a schema's content throws.</exception>
    internal static JsonSchema Build(JsonElement schema) => JsonSchema.Build(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry() });

    /// <summary>Whether <paramref name="e"/> is what building or evaluating a schema throws for its content.</summary>
    internal static bool IsBuildFailure(Exception e) => e is JsonSchemaException or RefResolutionException or ArgumentException;

    private static string? Unbuildable(JsonElement schema)
    {
        try
        {
            Build(schema);
            return null;
        }
        catch (Exception e) when (IsBuildFailure(e))
        {
            return e.Message;
        }
    }

    /// <summary>The first of <see cref="Causes"/>.</summary>
    internal static EvaluationResults? Cause(EvaluationResults node) => Causes(node).FirstOrDefault();

    /// <summary>The deepest failed evaluations with an error, reached through failed ones only (a failed branch of an
    /// <c>anyOf</c> that passed as a whole is not a cause), in the schema's order.</summary>
    internal static IEnumerable<EvaluationResults> Causes(EvaluationResults node)
    {
        if (node.IsValid) yield break;
        var deeper = false;
        foreach (var child in node.Details ?? [])
        {
            foreach (var cause in Causes(child))
            {
                deeper = true;
                yield return cause;
            }
        }
        if (!deeper && node.Errors is { Count: > 0 }) yield return node;
    }
}
