using System.Security.Cryptography;
using System.Text;

namespace PromptVault.Core.Webhooks;

/// <summary>The <c>X-PromptVault-Signature</c> of a delivery: <c>sha256=</c> and the hex HMAC-SHA256 of <c>"{timestamp}.{body}"</c>,
/// keyed with the webhook's secret (its UTF-8 bytes, as shown when it was created).</summary>
public static class WebhookSignature
{
    public const string EventHeader = "X-PromptVault-Event";
    public const string TimestampHeader = "X-PromptVault-Timestamp";
    public const string SignatureHeader = "X-PromptVault-Signature";
    public const string DeliveryHeader = "X-PromptVault-Delivery";

    /// <param name="timestamp">Unix seconds, as sent in <see cref="TimestampHeader"/>.</param>
    public static string Compute(string secret, string timestamp, string body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(timestamp);
        ArgumentNullException.ThrowIfNull(body);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"));
        return "sha256=" + Convert.ToHexStringLower(mac);
    }
}
