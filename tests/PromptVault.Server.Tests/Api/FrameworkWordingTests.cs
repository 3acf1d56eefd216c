using System.Text.Json;
using PromptVault.Server.Api;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// The System.Text.Json failures ProblemExceptionHandler can tell apart only by their wording are still found in its
/// resources, by key, and still worded so: a System.Text.Json that drops a key fails here, not as a wrong answer.
/// </summary>
public sealed class FrameworkWordingTests
{
    [Fact]
    public void ConversionFailure_IsRecognisedFromTheFrameworksOwnWording()
    {
        var refused = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<bool[]>("{}"));

        Assert.False(string.IsNullOrEmpty(FrameworkWording.ConversionStart));
        Assert.Null(refused.InnerException);
        Assert.True(FrameworkWording.IsConversion(refused), refused.Message);
    }

    [Theory]
    [InlineData("""["\ud800"]""")]
    [InlineData("""["\udc00"]""")]
    public void LoneSurrogate_IsRecognisedFromTheFrameworksOwnWording(string json)
    {
        var refused = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<string[]>(json));

        Assert.All(FrameworkWording.InvalidUtf16Starts, start => Assert.False(string.IsNullOrEmpty(start)));
        Assert.True(FrameworkWording.IsInvalidUtf16(Assert.IsType<InvalidOperationException>(refused.InnerException)), refused.InnerException!.Message);
    }

    [Fact]
    public void RepeatedMember_IsRecognisedFromTheFrameworksOwnWording()
    {
        var options = Core.Contracts.PromptVaultJson.Requests;
        var member = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Core.Contracts.MoveLabelRequest>("""{"version": "1", "version": "2"}""", options));
        var key = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Dictionary<string, string?>>("""{"a": "1", "a": "2"}""", options));
        var other = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Core.Contracts.MoveLabelRequest>("""{"version": 1}""", options));

        Assert.All(FrameworkWording.DuplicateStarts, start => Assert.False(string.IsNullOrEmpty(start)));
        Assert.True(FrameworkWording.IsDuplicate(member), member.Message);
        Assert.True(FrameworkWording.IsDuplicate(key), key.Message);
        Assert.False(FrameworkWording.IsDuplicate(other), other.Message);
    }

    [Fact]
    public void StringReadFromANumber_IsNoInvalidText()
    {
        var refused = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<string[]>("[5]"));

        Assert.False(FrameworkWording.IsInvalidUtf16(Assert.IsType<InvalidOperationException>(refused.InnerException)));
    }
}
