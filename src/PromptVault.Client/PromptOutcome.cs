using System.Text.Json;

namespace PromptVault.Client;

/// <summary>
/// What became of a resolved prompt's call, or later feedback on it: one metric event (SPEC §4, <c>docs/metrics.md</c>).
/// Every value is optional; recording checks them with the server's rule (<c>MetricEventRules</c>), so a value it would refuse throws at once.
/// </summary>
public sealed record PromptOutcome
{
    /// <summary>The event's id; when absent the SDK assigns a new one, so a retried batch is counted once. Send your own to make a repeat of the same feedback count once.</summary>
    public string? Id { get; init; }

    /// <summary>When it happened; the time it was recorded when absent.</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>How long the model call took.</summary>
    public TimeSpan? Latency { get; init; }

    /// <summary>Input (prompt) tokens of the call.</summary>
    public long? InputTokens { get; init; }

    /// <summary>Output (completion) tokens of the call.</summary>
    public long? OutputTokens { get; init; }

    /// <summary>What the call cost; when absent the server prices the tokens with the version's model.</summary>
    public double? Cost { get; init; }

    /// <summary>A quality score, any non-negative scale (0–1 is usual).</summary>
    public double? QualityScore { get; init; }

    /// <summary>User feedback, any non-negative scale (0/1 for thumbs down/up, 1–5 for stars).</summary>
    public double? UserFeedback { get; init; }

    /// <summary>Whether the call led to the outcome you want.</summary>
    public bool? Converted { get; init; }

    /// <summary>A short error kind (<c>timeout</c>, <c>rate_limit</c>); an event with one counts as an error.</summary>
    public string? Error { get; init; }

    /// <summary>Any JSON object of yours, up to 8,192 characters.</summary>
    public JsonElement? Metadata { get; init; }
}
