using System.ComponentModel.DataAnnotations;

namespace PromptVault.Server.Webhooks;

/// <summary>How deliveries are sent and retried (configuration section <c>PromptVault:Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    /// <summary>Attempts per delivery before it is marked failed. Default: 10.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = WebhookDefaults.MaxAttempts;

    /// <summary>Whether deliveries may go to a loopback address (a receiver on the server's own machine). Default: false. Link-local
    /// addresses (the cloud metadata service), unspecified and multicast ones are never reached (<see cref="WebhookDestinations"/>).</summary>
    public bool AllowLoopback { get; set; }

    /// <summary>Whether deliveries may go to a private network (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), where a
    /// self-hosted team's receivers usually live. Default: true; set false when admin keys are held by people who should not
    /// reach the server's network. Loopback is <see cref="AllowLoopback"/>'s alone.</summary>
    public bool AllowPrivateNetworks { get; set; } = true;

    /// <summary>The wait after the first failed attempt; it doubles after each further one. Default: 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan InitialBackoff { get; set; } = WebhookDefaults.InitialBackoff;

    /// <summary>The longest wait between attempts. Default: 1 hour.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "7.00:00:00")]
    public TimeSpan MaxBackoff { get; set; } = WebhookDefaults.MaxBackoff;

    /// <summary>How long a receiver has to answer. Default: 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00")]
    public TimeSpan Timeout { get; set; } = WebhookDefaults.Timeout;

    /// <summary>How long a claimed delivery stays with its server; after that (a crash mid-send) another may retry it. Must exceed
    /// <see cref="Timeout"/>. Default: 1 minute.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = WebhookDefaults.LeaseDuration;

    /// <summary>How often the dispatcher looks for due deliveries when no change wakes it. Default: 1 second.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = WebhookDefaults.PollInterval;

    /// <summary>The most deliveries in flight at once, each sent on its own (a slow receiver holds only its own). Default: 16.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = WebhookDefaults.BatchSize;

    /// <summary>The most deliveries of one webhook in flight at once (on all servers), so a hanging receiver holds at most this many
    /// of the <see cref="BatchSize"/> slots. Default: 4.</summary>
    [Range(1, 1000)]
    public int MaxInFlightPerWebhook { get; set; } = WebhookDefaults.MaxInFlightPerWebhook;

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1: <see cref="InitialBackoff"/> doubled per failure, at most <see cref="MaxBackoff"/>.</summary>
    public TimeSpan BackoffAfter(int attempt) =>
        TimeSpan.FromTicks((long)Math.Min(MaxBackoff.Ticks, InitialBackoff.Ticks * Math.Pow(2, attempt - 1)));
}

internal static class WebhookDefaults
{
    public const int MaxAttempts = 10;
    public const int BatchSize = 16;
    public const int MaxInFlightPerWebhook = 4;
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
}
