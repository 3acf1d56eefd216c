using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using HandlebarsDotNet;
using HandlebarsDotNet.IO;

namespace PromptVault.Core.Tests.Templates.HandlebarsNet;

/// <summary>
/// Writes a <see cref="decimal"/> from a .NET-values render as its JSON would render (<see cref="JsonContainer.ToTemplateValue"/>:
/// a long when the text is whole, else a double), so <c>2.50m</c> writes <c>2.5</c> on both paths rather than <c>2.50</c>.
/// The other CLR numbers already write as their JSON does.
/// </summary>
internal sealed class DecimalFormatter : IFormatter, IFormatterProvider
{
    public void Format<T>(T value, in EncodedTextWriter writer)
    {
        var text = ((decimal)(object)value!).ToString(CultureInfo.InvariantCulture);
        writer.Write(long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole)
            ? whole.ToString(CultureInfo.InvariantCulture)
            : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture), false);
    }

    public bool TryCreateFormatter(Type type, [NotNullWhen(true)] out IFormatter? formatter)
    {
        formatter = type == typeof(decimal) ? this : null;
        return formatter is not null;
    }
}
