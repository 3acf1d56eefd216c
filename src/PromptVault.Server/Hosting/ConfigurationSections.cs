using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace PromptVault.Server.Hosting;

/// <summary>
/// Options bound from a configuration section and checked by their data annotations, each refusal naming the key as the user
/// writes it (<c>PromptVault:Webhooks:MaxAttempts</c>): the framework's own check names the .NET type and member
/// ("DataAnnotation validation failed for 'WebhookOptions' members: 'MaxAttempts'").
/// </summary>
internal static class ConfigurationSections
{
    public static OptionsBuilder<T> BindValidatedConfiguration<T>(this OptionsBuilder<T> builder, string section) where T : class
    {
        builder.BindConfiguration(section);
        builder.Services.AddSingleton<IValidateOptions<T>>(new KeyedDataAnnotations<T>(builder.Name, section));
        return builder;
    }

    private sealed class KeyedDataAnnotations<T>(string? name, string section) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? optionsName, T options)
        {
            if (name is not null && name != optionsName) return ValidateOptionsResult.Skip;
            var failures = new List<string>();
            foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var context = new ValidationContext(options) { MemberName = property.Name, DisplayName = $"{section}:{property.Name}" };
                var results = new List<ValidationResult>();
                if (!Validator.TryValidateProperty(property.GetValue(options), context, results))
                    failures.AddRange(results.Select(r => r.ErrorMessage ?? $"{context.DisplayName} is invalid."));
            }
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
