using PromptVault.Core.Auth;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Tests.Prompts;

/// <summary>
/// A display name holding a bidi override, isolate or another invisible format or control character was stored, and a list
/// or the audit log showed it reordered (Trojan Source). Every rule a display name enters by refuses it, naming the field,
/// the character and its position (PromptRules.ValidateDisplayName).
/// </summary>
public sealed class DisplayNameTests
{
    public static TheoryData<string, Action<string>> EntriesOfDisplayNames => new()
    {
        { "name", ApiKeyNames.Validate },
        { "name", name => ExperimentRules.ValidateName(name, "name") },
        { "variants[1].name", name => ExperimentRules.ValidateName(name, "variants[1].name") },
        { "tests[0].name", name => TestCaseRules.ValidateWithoutVersion([new TestCase(name, Expect: [new("contains", System.Text.Json.JsonDocument.Parse("\"x\"").RootElement.Clone())])]) },
        { "category", name => PromptRules.ValidateCategory(name) },
        { "metadata.category", name => MetadataRules.Validate(new PromptMetadata { Category = name }) },
        { "tags[0]", name => PromptRules.ValidateTags([name], "tags") },
        { "metadata.tags[0]", name => MetadataRules.Validate(new PromptMetadata { Tags = [name] }) },
    };

    [Theory]
    [MemberData(nameof(EntriesOfDisplayNames))]
    public void ADisplayName_HoldingABidiOverride_IsRefusedNamingTheCharacterAndItsPosition(string field, Action<string> validate)
    {
        var error = Assert.Throws<InvalidInputException>(() => validate("ab\u202Ecd"));

        Assert.Equal("invalid_text", error.Code);
        Assert.Equal(field, error.Field);
        Assert.StartsWith($"{field} holds U+202E, an invisible format character, at character 3:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\u202A", "an invisible format character")] // left-to-right embedding
    [InlineData("\u2066", "an invisible format character")] // left-to-right isolate
    [InlineData("\u2069", "an invisible format character")] // pop directional isolate
    [InlineData("\u200B", "an invisible format character")] // zero-width space
    [InlineData("\u00AD", "an invisible format character")] // soft hyphen
    [InlineData("\U000E0041", "an invisible format character")] // tag latin capital letter A, outside the BMP
    [InlineData("\u0007", "a control character")] // C0
    [InlineData("\u009B", "a control character")] // C1: control sequence introducer
    [InlineData("\u007F", "a control character")]
    public void ValidateDisplayName_ControlOrFormatCharacters_AreRefused(string character, string kind)
    {
        var error = Assert.Throws<InvalidInputException>(() => PromptRules.ValidateDisplayName("😀x" + character, "name"));

        Assert.Contains($"U+{char.ConvertToUtf32(character, 0):X4}, {kind}, at character 3", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("support-service")]
    [InlineData("Ünïcödé name ✓ 😀 עברית")]
    [InlineData("A/B: short vs long")]
    [InlineData("team 👩\u200D💻 👨\u200D👩\u200D👧")] // emoji joined by zero-width joiners
    [InlineData("می\u200Cخواهم")] // Persian: a zero-width non-joiner between a word's parts
    public void ValidateDisplayName_VisibleText_IsAccepted(string name)
    {
        var error = Record.Exception(() => PromptRules.ValidateDisplayName(name, "name"));

        Assert.Null(error);
    }
}
