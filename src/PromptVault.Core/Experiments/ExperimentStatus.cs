using System.Text.Json.Serialization;

namespace PromptVault.Core.Experiments;

/// <summary><c>draft → running ⇄ paused → completed | cancelled</c>; completed and cancelled are final.</summary>
public enum ExperimentStatus
{
    [JsonStringEnumMemberName("draft")] Draft,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("paused")] Paused,
    [JsonStringEnumMemberName("completed")] Completed,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
}
