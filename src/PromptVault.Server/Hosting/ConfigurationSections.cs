using Microsoft.Extensions.Options;
using PromptVault.Core;

namespace PromptVault.Server.Hosting;

/// <summary>
/// Options bound from a configuration section and checked by their data annotations, each refusal a sentence naming the key as
/// the user writes it (<see cref="AnnotatedSettings"/>), and its keys known (<see cref="KnownSettings"/>).
/// </summary>
internal static class ConfigurationSections
{
    public static OptionsBuilder<T> BindValidatedConfiguration<T>(this OptionsBuilder<T> builder, string section) where T : class
    {
        builder.BindConfiguration(section);
        builder.Services.AddSingleton(new ReadSetting(section, typeof(T)));
        builder.Services.AddSingleton<IValidateOptions<T>>(new KeyedDataAnnotations<T>(builder.Name, section));
        return builder;
    }

    private sealed class KeyedDataAnnotations<T>(string? name, string section) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? optionsName, T options)
        {
            if (name is not null && name != optionsName) return ValidateOptionsResult.Skip;
            var failures = AnnotatedSettings.Refusals(options, section);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
