using System.Diagnostics.CodeAnalysis;
using HandlebarsDotNet;
using HandlebarsDotNet.IO;

namespace PromptVault.Core.Tests.Templates.HandlebarsNet;

/// <summary>
/// Writes booleans as JSON and Handlebars.js do (<c>true</c>, <c>false</c>) rather than .NET's <c>True</c>/<c>False</c>:
/// values arrive as JSON (or, in process, as the .NET values that JSON would be), so <c>true</c> must render as <c>true</c>.
/// </summary>
internal sealed class BooleanFormatter : IFormatter, IFormatterProvider
{
    public void Format<T>(T value, in EncodedTextWriter writer) => writer.Write(value is true ? "true" : "false", false);

    public bool TryCreateFormatter(Type type, [NotNullWhen(true)] out IFormatter? formatter)
    {
        formatter = type == typeof(bool) ? this : null;
        return formatter is not null;
    }
}
