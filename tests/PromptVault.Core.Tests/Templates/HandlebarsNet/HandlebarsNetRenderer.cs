using System.Globalization;
using System.Text.Json;
using HandlebarsDotNet;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Tests.Templates.HandlebarsNet;

/// <summary>
/// The renderer PromptVault used before it compiled templates itself: Handlebars.Net 2.4 with no HTML escaping and the
/// adapters beside this file (JSON read in place, JSON's booleans, decimals as their JSON renders). It is the oracle of
/// <see cref="HandlebarsNetDifferentialTests"/>; inputs are assumed valid (validation is not what it checks).
/// </summary>
internal static class HandlebarsNetRenderer
{
    private static readonly IHandlebars Handlebars = HandlebarsDotNet.Handlebars.Create(new HandlebarsConfiguration
    {
        NoEscape = true,
        FormatProvider = CultureInfo.InvariantCulture,
        FormatterProviders = { new BooleanFormatter(), new DecimalFormatter(), new JsonContainerFormatter() },
        ObjectDescriptorProviders = { new JsonContainerDescriptor() },
        CompileTimeConfiguration = { Features = { new InterpretedExpressions() } },
    });

    public static string Render(string template, IReadOnlyList<VariableDefinition> variables, IReadOnlyDictionary<string, JsonElement> inputs)
    {
        var context = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var variable in variables)
        {
            if (inputs.TryGetValue(variable.Name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
                context[variable.Name] = JsonContainer.ToTemplateValue(value);
            else if (variable.HasDefault)
                context[variable.Name] = JsonContainer.ToTemplateValue(variable.DefaultValue!.Value);
        }
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        Handlebars.Compile(new StringReader(template))(writer, context);
        return writer.ToString().Trim();
    }
}
