using System.Text.Json.Serialization;

namespace PromptVault.Client;

/// <summary>The lifecycle routes of an experiment: <c>POST /api/experiments/{id}/{start,pause,complete,cancel}</c>.</summary>
public enum ExperimentCommand
{
    /// <summary>Starts a draft experiment, or resumes a paused one.</summary>
    [JsonStringEnumMemberName("start")] Start,
    /// <summary>Pauses a running experiment: units are served the production label again; events still count.</summary>
    [JsonStringEnumMemberName("pause")] Pause,
    /// <summary>Completes the experiment with the winner the sequential test supports now, if any.</summary>
    [JsonStringEnumMemberName("complete")] Complete,
    /// <summary>Cancels the experiment: it is void and takes no more events.</summary>
    [JsonStringEnumMemberName("cancel")] Cancel,
}
