using System.ComponentModel.DataAnnotations;

namespace PromptVault.Client;

/// <summary>
/// Settings of the SDK registered by <c>services.AddPromptVault(...)</c>, bound from the configuration section
/// <see cref="SectionName"/> and validated when the host starts (every problem listed at once).
/// </summary>
/// <remarks>Read once when the SDK starts; changing an instance afterwards has no effect.</remarks>
public sealed class PromptVaultOptions
{
    /// <summary>The configuration section bound to these options: <c>PromptVault</c>.</summary>
    public const string SectionName = "PromptVault";

    /// <summary>The PromptVault server's URL, e.g. <c>http://127.0.0.1:5180</c>.</summary>
    /// <value>Required.</value>
    [Required]
    public Uri? ServerUrl { get; set; }

    /// <summary>The API key (<c>pv_…</c>) sent as <c>Authorization: Bearer</c>; a reader key can read snapshots, a writer key can also send events.</summary>
    /// <value>None by default.</value>
    public string? ApiKey { get; set; }

    /// <summary>How often the snapshot is re-read (with <c>If-None-Match</c>), stream or not.</summary>
    /// <value>30 seconds by default.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00")]
    public TimeSpan RefreshInterval { get; set; } = PromptVaultDefaults.RefreshInterval;

    /// <summary>Whether to listen to <c>GET /api/sdk/stream</c> so a change reaches the SDK at once rather than on the next interval.</summary>
    /// <value><see langword="true"/> by default.</value>
    public bool UseStream { get; set; } = true;

    /// <summary>
    /// A snapshot file (the body of <c>GET /api/sdk/snapshot</c>) to start from when the server cannot be reached at start.
    /// Without one, start fails with <see cref="PromptVaultUnavailableException"/> when the server is down.
    /// </summary>
    /// <value>None by default.</value>
    public string? FallbackSnapshotPath { get; set; }

    /// <summary>The longest any one request to the server may take, retries included; also how long start waits for the first snapshot.</summary>
    /// <value>5 seconds by default.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = PromptVaultDefaults.RequestTimeout;

    /// <summary>
    /// Whether exposures and metric events are sent. On, the start fails when the server refuses the key's role for them (a
    /// reader key); off, recording does nothing, for an application that only serves prompts with a reader key.
    /// </summary>
    /// <value><see langword="true"/> by default.</value>
    public bool RecordEvents { get; set; } = true;

    /// <summary>How many events (exposures and metric events) wait to be sent at most; when full, the oldest is dropped and counted.</summary>
    /// <value>10,000 by default.</value>
    [Range(1, 10_000_000)]
    public int EventQueueCapacity { get; set; } = PromptVaultDefaults.EventQueueCapacity;

    /// <summary>The most events sent in one request (the server takes up to 1,000).</summary>
    /// <value>500 by default.</value>
    [Range(1, 1_000)]
    public int EventBatchSize { get; set; } = PromptVaultDefaults.EventBatchSize;

    /// <summary>How long a queued event waits for a batch to fill before it is sent anyway.</summary>
    /// <value>2 seconds by default.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan EventFlushInterval { get; set; } = PromptVaultDefaults.EventFlushInterval;

    /// <summary>The longest wait between two attempts to send a batch the server could not take; the wait doubles from 100 ms up to it.</summary>
    /// <value>30 seconds by default.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan EventRetryMaxDelay { get; set; } = PromptVaultDefaults.EventRetryMaxDelay;

    /// <summary>How old the last snapshot read from the server may be before the health check reports the SDK degraded.</summary>
    /// <value>Three <see cref="RefreshInterval"/>s when not set.</value>
    public TimeSpan? StaleAfter { get; set; }
}

/// <summary>The defaults of <see cref="PromptVaultOptions"/>, in one place.</summary>
internal static class PromptVaultDefaults
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    public const int EventQueueCapacity = 10_000;
    public const int EventBatchSize = 500;
    public static readonly TimeSpan EventFlushInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan EventRetryMaxDelay = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    public const string HttpClientName = "PromptVault";
    public const string StreamHttpClientName = "PromptVault.Stream";
}
