using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PromptVault.Core;
using PromptVault.Core.Models;

namespace Microsoft.Extensions.DependencyInjection;

public static class ModelServiceCollectionExtensions
{
    /// <summary>
    /// The models configured under <c>PromptVault:Models:{name}</c>: each one's options (validated at start), an
    /// <see cref="Microsoft.Extensions.AI.IChatClient"/> keyed by its name, the <see cref="ModelCatalog"/> and the <see cref="ModelCaller"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A model setting is missing its model name.</exception>
    public static IServiceCollection AddPromptVaultModels(this IServiceCollection services, IConfiguration configuration)
    {
        var names = ModelCatalog.NamesIn(configuration);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelOptions>, ModelOptionsValidator>());
        services.AddSingleton(new ReadSetting($"{ModelOptions.SectionName}:{{name}}", typeof(ModelOptions)));
        foreach (var name in names)
        {
            services.AddOptions<ModelOptions>(name).Bind(configuration.GetSection($"{ModelOptions.SectionName}:{name}")).ValidateOnStart();
            services.AddKeyedChatClient(name, provider => ModelCatalog.CreateClient(name, provider.GetRequiredService<IOptionsMonitor<ModelOptions>>().Get(name)));
        }
        services.AddSingleton(provider => new ModelCatalog(names, provider));
        services.AddSingleton<ModelCaller>();
        return services;
    }
}
