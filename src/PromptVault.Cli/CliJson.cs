using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using PromptVault.Cli.Commands;
using PromptVault.Core.Contracts;

namespace PromptVault.Cli;

/// <summary>The JSON the CLI prints: the API's settings (<see cref="PromptVaultJson.Options"/>), indented, plus the CLI's own documents.</summary>
internal static class CliJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>An error document on one line (stderr is read line by line), as readable as <see cref="Options"/>.</summary>
    public static JsonTypeInfo<CliErrorDocument> ErrorDocument { get; } =
        (JsonTypeInfo<CliErrorDocument>)new JsonSerializerOptions(Options) { WriteIndented = false }.GetTypeInfo(typeof(CliErrorDocument));

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(PromptVaultJson.Options)
        {
            WriteIndented = true,
            // Prompts are text for people: keep quotes, '<', '+' and non-ASCII readable in the output.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.TypeInfoResolverChain.Insert(0, CliJsonContext.Default);
        return options;
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(List<PushResult>))]
[JsonSerializable(typeof(CliErrorDocument))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
