using PromptVault.Core;
using PromptVault.Core.Prompts;

namespace PromptVault.Storage;

/// <summary>A metric batch refused because one of its events names something not stored: both stores' words for it.</summary>
internal static class MetricBatchRefusals
{
    public static NotFoundException VersionNotFound(int index, string versionId) =>
        new("version_not_found", $"event {index}: version '{PromptRules.Echo(versionId)}' does not exist; no event of the batch was stored.");

    public static NotFoundException ExperimentNotFound(int index, string experimentId) =>
        new("experiment_not_found", $"event {index}: experiment '{PromptRules.Echo(experimentId)}' does not exist; no event of the batch was stored.");
}
