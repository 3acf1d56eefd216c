namespace PromptVault.Client;

/// <summary>The lifecycle routes of an experiment: <c>POST /api/experiments/{id}/{start,pause,complete,cancel}</c>.</summary>
public enum ExperimentCommand
{
    Start,
    Pause,
    Complete,
    Cancel,
}
