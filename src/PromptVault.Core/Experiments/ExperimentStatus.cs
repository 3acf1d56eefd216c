namespace PromptVault.Core.Experiments;

/// <summary><c>draft → running ⇄ paused → completed | cancelled</c>; completed and cancelled are final.</summary>
public enum ExperimentStatus
{
    Draft,
    Running,
    Paused,
    Completed,
    Cancelled,
}
