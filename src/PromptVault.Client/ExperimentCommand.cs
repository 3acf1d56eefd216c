using System.Text.Json.Serialization;

namespace PromptVault.Client;

/// <summary>The lifecycle routes of an experiment: <c>POST /api/experiments/{id}/{start,pause,complete,cancel}</c>.</summary>
public enum ExperimentCommand
{
    [JsonStringEnumMemberName("start")] Start,
    [JsonStringEnumMemberName("pause")] Pause,
    [JsonStringEnumMemberName("complete")] Complete,
    [JsonStringEnumMemberName("cancel")] Cancel,
}
