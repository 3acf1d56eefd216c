using System.Collections.Frozen;

namespace PromptVault.Core.Experiments;

/// <summary>The allowed status moves of an experiment: <c>draft → running ⇄ paused → completed | cancelled</c>.</summary>
public static class ExperimentLifecycle
{
    private static readonly FrozenDictionary<ExperimentStatus, ExperimentStatus[]> Allowed = new Dictionary<ExperimentStatus, ExperimentStatus[]>
    {
        [ExperimentStatus.Draft] = [ExperimentStatus.Running, ExperimentStatus.Cancelled],
        [ExperimentStatus.Running] = [ExperimentStatus.Paused, ExperimentStatus.Completed, ExperimentStatus.Cancelled],
        [ExperimentStatus.Paused] = [ExperimentStatus.Running, ExperimentStatus.Completed, ExperimentStatus.Cancelled],
        [ExperimentStatus.Completed] = [],
        [ExperimentStatus.Cancelled] = [],
    }.ToFrozenDictionary();

    public static bool CanMove(ExperimentStatus from, ExperimentStatus to) => Allowed[from].Contains(to);

    /// <summary>Refuses a move the lifecycle does not allow, naming the moves that are.</summary>
    public static void EnsureCanMove(Experiment experiment, ExperimentStatus to)
    {
        if (CanMove(experiment.Status, to))
            return;
        var allowed = Allowed[experiment.Status];
        var options = allowed.Length == 0 ? "it is final" : "it can move to " + string.Join(" or ", allowed.Select(Names.Of));
        throw new ConflictException("invalid_experiment_transition",
            $"experiment '{experiment.Name}' is {Names.Of(experiment.Status)} and cannot become {Names.Of(to)}: {options}.", "status");
    }
}
