using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PromptVault.Client;
using PromptVault.Client.Chat;

namespace Microsoft.Extensions.AI;

/// <summary>Adds the PromptVault middleware to a chat client pipeline.</summary>
public static class PromptVaultChatClientBuilderExtensions
{
    /// <summary>
    /// Adds a <see cref="PromptVaultChatClient"/>: each call is sent with the prompt resolved for its unit and the version's model
    /// settings, and recorded. Its <see cref="IPromptVault"/> comes from the pipeline's services (<c>AddPromptVault</c>).
    /// </summary>
    /// <example><code>
    /// services.AddChatClient(inner).UsePromptVault(o =&gt; o.PromptName = "customer-support");
    /// </code></example>
    public static ChatClientBuilder UsePromptVault(this ChatClientBuilder builder, Action<PromptVaultChatOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) =>
        {
            var options = new PromptVaultChatOptions();
            configure?.Invoke(options);
            return new PromptVaultChatClient(inner, services.GetRequiredService<IPromptVault>(), options, services.GetService<TimeProvider>(),
                services.GetService<ILoggerFactory>()?.CreateLogger<PromptVaultChatClient>());
        });
    }
}
