using Microsoft.Extensions.AI;
using PromptVault.Core.Metrics;

namespace PromptVault.Client.Chat;

/// <summary>Settings of the <see cref="PromptVaultChatClient"/> middleware (<c>UsePromptVault</c>).</summary>
public sealed class PromptVaultChatOptions
{
    /// <summary>The prompt to resolve for each call.</summary>
    /// <value>Required.</value>
    public string? PromptName { get; set; }

    /// <summary>The label to serve (outside a running experiment); <c>production</c> when not set.</summary>
    public string? Label { get; set; }

    /// <summary>The exact version to serve, overriding label and experiment.</summary>
    public string? Version { get; set; }

    /// <summary>
    /// The unit (user, session) of a call; by default the <see cref="ChatOptions.AdditionalProperties"/> entry
    /// <see cref="PromptVaultChatClient.UnitIdProperty"/>.
    /// </summary>
    public Func<ChatOptions?, string?> UnitId { get; set; } = static options => PromptVaultChatClient.Property<string>(options, PromptVaultChatClient.UnitIdProperty);

    /// <summary>
    /// The template's variables for a call; by default the <see cref="ChatOptions.AdditionalProperties"/> entry
    /// <see cref="PromptVaultChatClient.VariablesProperty"/> (an <c>IReadOnlyDictionary&lt;string, object?&gt;</c>).
    /// </summary>
    public Func<ChatOptions?, IReadOnlyDictionary<string, object?>?> Variables { get; set; } =
        static options => PromptVaultChatClient.Property<IReadOnlyDictionary<string, object?>>(options, PromptVaultChatClient.VariablesProperty);

    /// <summary>Prices tokens into the cost of each call, by the model that answered (else the version's model).</summary>
    /// <value><see cref="PriceTable.Default"/> by default; null leaves pricing to the server.</value>
    public PriceTable? Prices { get; set; } = PriceTable.Default;
}
