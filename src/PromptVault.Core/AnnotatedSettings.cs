using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;

namespace PromptVault.Core;

/// <summary>
/// Checks settings by their data annotations, each refusal a sentence naming the setting as the user writes it
/// (<c>PromptVault:Webhooks:MaxAttempts must be between 1 and 100; it is 0.</c>): the framework's own check names the .NET
/// type and member ("DataAnnotation validation failed for 'WebhookOptions' members: 'MaxAttempts' with the error: 'The field …'").
/// The server's options and the SDK's are checked here.
/// </summary>
internal static class AnnotatedSettings
{
    /// <summary>Every refusal of <paramref name="settings"/>, bound from the configuration section <paramref name="section"/>; none when all is well.</summary>
    public static List<string> Refusals(object settings, string section)
    {
        var refusals = new List<string>();
        foreach (var property in settings.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var value = property.GetValue(settings);
            refusals.AddRange(property.GetCustomAttributes<ValidationAttribute>()
                .Where(attribute => !attribute.IsValid(value))
                .Select(attribute => Refusal(attribute, $"{section}:{property.Name}", value)));
        }
        return refusals;
    }

    private static string Refusal(ValidationAttribute attribute, string key, object? value) => attribute switch
    {
        RequiredAttribute => $"{key} is required.",
        RangeAttribute range => $"{key} must be between {Show(range.Minimum)} and {Show(range.Maximum)}; it is {Show(value)}.",
        _ => attribute.FormatErrorMessage(key),
    };

    /// <summary>A value as it is written in configuration: a time span without trailing zeros (<c>00:00:00.01</c>, not <c>00:00:00.0100000</c>).</summary>
    private static string? Show(object? value) =>
        value is TimeSpan span && span.ToString("c", CultureInfo.InvariantCulture) is var text && text.LastIndexOf('.') > text.LastIndexOf(':')
            ? text.TrimEnd('0')
            : Convert.ToString(value, CultureInfo.InvariantCulture);
}
