using Microsoft.Extensions.Logging;

namespace PromptVault.Core;

/// <summary>The decisions PromptVault makes by itself, logged with fixed event ids. Never a key secret or prompt content.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information,
        Message = "Experiment {ExperimentId} auto-completed; winner {WinnerVariantId}: {Reason}")]
    public static partial void ExperimentAutoCompleted(ILogger logger, string experimentId, string? winnerVariantId, string? reason);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error,
        Message = "Experiment {ExperimentId}: the look after a stored metric batch failed; the batch stands and the next batch looks again")]
    public static partial void LookAfterBatchFailed(ILogger logger, string experimentId, Exception error);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Experiment {ExperimentId} paused by a guardrail: {Reason}")]
    public static partial void ExperimentGuardrailPaused(ILogger logger, string experimentId, string? reason);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning,
        Message = "{Count} metric event(s) of a batch recorded without a cost: their tokens priced above {MaxCost} at the price table's prices, the largest {LargestCost} (version {VersionId}, model {Model})")]
    public static partial void MetricEventsUncosted(ILogger logger, int count, double maxCost, double largestCost, string versionId, string? model);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information,
        Message = "Created the first admin API key {KeyId} ({KeyName}): no active admin key existed")]
    public static partial void FirstAdminKeyCreated(ILogger logger, string keyId, string keyName);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Created admin API key {KeyId} ({KeyName}) with promptvault admin-key")]
    public static partial void AdminKeyRecovered(ILogger logger, string keyId, string keyName);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "API key {KeyId} revoked by {Actor}")]
    public static partial void KeyRevoked(ILogger logger, string keyId, string actor);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Model {Model} ({ModelId}) failed: {Error}")]
    public static partial void ModelCallFailed(ILogger logger, string model, string? modelId, string error);
}
