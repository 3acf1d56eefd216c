using System.Text.Json;
using PromptVault.Core.Prompts;
using PromptVault.Core.Versioning;

namespace PromptVault.Core.Tests.Support;

/// <summary>Small builders shared by the tests: JSON values, render inputs and stored versions.</summary>
internal static class Values
{
    public static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>Render inputs from (name, JSON text) pairs: <c>Inputs(("name", "\"Ann\""), ("count", "3"))</c>.</summary>
    public static IReadOnlyDictionary<string, JsonElement> Inputs(params (string Name, string Json)[] values) =>
        values.ToDictionary(v => v.Name, v => Json(v.Json), StringComparer.Ordinal);

    public static PromptVersion Version(string id, string content, params VariableDefinition[] variables) =>
        new(id, "prompt-id", 1, SemanticVersion.Initial, content, variables, PromptMetadata.Empty, "test", "tester",
            DateTimeOffset.UnixEpoch, VersionStatus.Draft);
}
