namespace PromptVault.Core.Models;

/// <summary>
/// One model connection, configured under <c>PromptVault:Models:{name}</c> (SPEC §10): an OpenAI-compatible endpoint called
/// through Microsoft.Extensions.AI. Checked at start by <see cref="ModelOptionsValidator"/>.
/// </summary>
public sealed class ModelOptions
{
    /// <summary>The configuration section holding one child section per named model.</summary>
    public const string SectionName = "PromptVault:Models";

    /// <summary>The OpenAI-compatible base URL, e.g. <c>https://api.openai.com/v1</c>. Required.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The API key sent as a bearer token. Default: none (a local endpoint that needs no key).</summary>
    public string? ApiKey { get; set; }

    /// <summary>The model id used when a version's <c>metadata.model</c> names none. Required.</summary>
    public string? Model { get; set; }

    /// <summary>The longest wait for one answer, its retries and their waits included. Default: <see cref="ModelDefaults.Timeout"/>.</summary>
    public TimeSpan Timeout { get; set; } = ModelDefaults.Timeout;

    /// <summary>Retries after a 429 or 5xx answer or a dropped connection. Default: <see cref="ModelDefaults.MaxRetries"/>.</summary>
    public int MaxRetries { get; set; } = ModelDefaults.MaxRetries;

    /// <summary>The largest answer body read from the provider; past it the call fails. Default: <see cref="ModelDefaults.MaxAnswerBytes"/>.</summary>
    public long MaxAnswerBytes { get; set; } = ModelDefaults.MaxAnswerBytes;
}

/// <summary>The defaults of <see cref="ModelOptions"/>, in one place.</summary>
public static class ModelDefaults
{
    /// <summary>100 seconds: the OpenAI SDK's own network timeout.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(100);

    public const int MaxRetries = 2;

    /// <summary>1 MiB: far above any chat answer's text, far below what would strain the server if read, stored and judged.</summary>
    public const long MaxAnswerBytes = 1024 * 1024;

    /// <summary>The model used when a request names none and several are configured.</summary>
    public const string DefaultName = "default";

    /// <summary>The longest name of a model (its section under <c>PromptVault:Models</c>), checked at start and in each request naming one.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Sent when no API key is configured: the OpenAI SDK refuses an empty one, and local endpoints ignore it.</summary>
    internal const string NoApiKey = "none";
}
