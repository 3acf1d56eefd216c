using PromptVault.Core.Contracts;

namespace PromptVault.Core.Tests.Contracts;

public sealed class TextFaultTests
{
    // Built in code: an attribute's strings are stored as UTF-8, which turns a lone surrogate into U+FFFD.
    public static TheoryData<string, TextFault?> Texts => new()
    {
        { "plain", null },
        { "emoji \U0001F600 pair", null },
        { "", null },
        { "time\0out", TextFault.Nul },
        { "lone high \ud800", TextFault.NotUtf16 },
        { "\ud800 lone high first", TextFault.NotUtf16 },
        { "lone low \udc00 inside", TextFault.NotUtf16 },
        { "reversed \udc00\ud800", TextFault.NotUtf16 },
        { "two highs \ud800\ud800\udc00", TextFault.NotUtf16 },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void FaultIn_NamesWhatTheServerWouldRefuse(string text, TextFault? expected) =>
        Assert.Equal(expected, InvalidJsonTextException.FaultIn(text));
}
