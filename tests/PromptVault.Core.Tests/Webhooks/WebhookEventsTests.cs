using System.Text.Json.Nodes;
using PromptVault.Core.Audit;
using PromptVault.Core.Webhooks;

namespace PromptVault.Core.Tests.Webhooks;

public sealed class WebhookEventsTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 14, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Compute_KnownVector_MatchesOpenssl()
    {
        // printf '%s.%s' 1700000000 '{"a":1}' | openssl dgst -sha256 -hmac whsec_abc
        var signature = WebhookSignature.Compute("whsec_abc", "1700000000", """{"a":1}""");

        Assert.Equal("sha256=3b843bacfb18cc5554542fdcc84d815b399c52758e508a6fcecf0a2af4efea2b", signature);
    }

    [Theory]
    [InlineData(AuditActions.Promoted, "production", "1.0.0", "1.1.0")]
    [InlineData(AuditActions.RolledBack, "production", "1.1.0", "1.2.0")]
    public void FromAudit_PromoteOrRollback_IsLabelMovedOfProduction(string action, string label, string from, string to)
    {
        var entry = new AuditEntry(0, At, "ci", action, "support", to,
            new Dictionary<string, string?> { ["production"] = from }, new Dictionary<string, string?> { ["production"] = to });

        var fired = WebhookEvents.FromAudit(entry, "event-1")!;

        var payload = JsonNode.Parse(fired.Payload)!;
        Assert.Equal(WebhookEvents.LabelMoved, fired.Name);
        Assert.Equal(label, payload["label"]!.GetValue<string>());
        Assert.Equal(from, payload["previousVersion"]!.GetValue<string>());
        Assert.Equal(to, payload["version"]!.GetValue<string>());
        Assert.Equal("event-1", payload["id"]!.GetValue<string>());
        Assert.Null(payload["via"]);
    }

    [Theory]
    [InlineData(AuditActions.PromptCreated)]
    [InlineData(AuditActions.StatusChanged)]
    [InlineData(AuditActions.ApiKeyCreated)]
    [InlineData(AuditActions.ExperimentCreated)]
    [InlineData(AuditActions.ExperimentCancelled)]
    [InlineData(AuditActions.WebhookCreated)]
    public void FromAudit_ActionsWithoutAnEvent_FireNothing(string action)
    {
        Assert.Null(WebhookEvents.FromAudit(new AuditEntry(0, At, "ci", action, "support", "x", null, null), "event-1"));
    }
}
