namespace PromptVault.Core.Prompts;

/// <summary>
/// Where a label write expects the label to be before it (RFC 9110 §13.1.1-2 as the API takes it): at one of some versions
/// (<c>If-Match: "1.0.1"</c>), set at any version (<c>If-Match: *</c>) or not set (<c>If-None-Match: *</c>). No expectation is null.
/// A version number converts to the expectation that the label is at it.
/// </summary>
public sealed class LabelExpectation
{
    private LabelExpectation(IReadOnlyCollection<string>? versions, bool set) => (Versions, Set) = (versions, set);

    /// <summary>The version numbers the label must point at; null when any (or, not <see cref="Set"/>, none) will do.</summary>
    public IReadOnlyCollection<string>? Versions { get; }

    /// <summary>Whether the label must be set; false for <see cref="Absent"/>.</summary>
    public bool Set { get; }

    /// <summary>The label is not set: the write is its first.</summary>
    public static LabelExpectation Absent { get; } = new(null, set: false);

    /// <summary>The label is set, wherever it points.</summary>
    public static LabelExpectation Anywhere { get; } = new(null, set: true);

    /// <summary>The label points at one of <paramref name="versions"/> (none: it can never be met).</summary>
    public static LabelExpectation At(params IEnumerable<string> versions) => new(versions.ToList(), set: true);

    public static implicit operator LabelExpectation?(string? version) => version is null ? null : At(version);

    /// <summary>Whether a label pointing at <paramref name="current"/> (null: not set) meets it.</summary>
    public bool IsMetBy(string? current) => current is null ? !Set : Set && (Versions is null || Versions.Contains(current));

    /// <summary>The request header that says it.</summary>
    public string Header => Set ? "If-Match" : "If-None-Match";

    /// <summary>What it expects, for a refusal: "at 1.0.1 or 1.0.2", "set" or "unset".</summary>
    public override string ToString() => !Set ? "unset" : Versions is null ? "set" : $"at {string.Join(" or ", Versions)}";
}
