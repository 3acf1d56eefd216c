using System.Globalization;
using System.Runtime.CompilerServices;

namespace PromptVault.Core;

/// <summary>
/// An error message formatted with the invariant culture. An interpolated string passed where one is expected
/// (the exceptions' constructors, the rules' refusal helpers) formats its numbers and dates as the server does, e.g.
/// <c>{limit:N0}</c> as <c>100,000</c>, even inside an application whose current culture is de-DE or fr-FR (the SDK
/// raises these refusals in the host's process). Build a message anywhere else with <c>FormattableString.Invariant</c>.
/// </summary>
[InterpolatedStringHandler]
public ref struct InvariantMessage
{
    private DefaultInterpolatedStringHandler _text;

    public InvariantMessage(int literalLength, int formattedCount) =>
        _text = new DefaultInterpolatedStringHandler(literalLength, formattedCount, CultureInfo.InvariantCulture);

    public static implicit operator InvariantMessage(string text)
    {
        var message = new InvariantMessage(text.Length, 0);
        message.AppendLiteral(text);
        return message;
    }

    public void AppendLiteral(string value) => _text.AppendLiteral(value);

    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);

    public void AppendFormatted<T>(T value, string? format) => _text.AppendFormatted(value, format);

    public void AppendFormatted<T>(T value, int alignment) => _text.AppendFormatted(value, alignment);

    public void AppendFormatted<T>(T value, int alignment, string? format) => _text.AppendFormatted(value, alignment, format);

    public void AppendFormatted(ReadOnlySpan<char> value) => _text.AppendFormatted(value);

    public void AppendFormatted(string? value) => _text.AppendFormatted(value);

    public string ToStringAndClear() => _text.ToStringAndClear();
}
