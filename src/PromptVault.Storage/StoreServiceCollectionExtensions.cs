using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Storage;

namespace PromptVault.Storage;

internal static class StoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TStore"/> as a singleton, and as every store contract (<c>PromptVault.Core.Storage</c>)
    /// it implements, so a contract added to <see cref="RelationalPromptStore{TConnection, TTransaction}"/> is served by both engines.
    /// </summary>
    public static IServiceCollection AddStoreContracts<TStore>(this IServiceCollection services)
        where TStore : class
    {
        services.AddSingleton<TStore>();
        foreach (var contract in typeof(TStore).GetInterfaces().Where(i => i.Namespace == typeof(IPromptStore).Namespace))
            services.AddSingleton(contract, sp => sp.GetRequiredService<TStore>());
        return services;
    }
}
