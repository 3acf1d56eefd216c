using System.Collections.Frozen;

using PromptVault.Core.Metrics;

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

    /// <summary>
    /// Whether an experiment in <paramref name="status"/> may serve its variants' versions, now or once (re)started: every
    /// status but the final ones (completed, cancelled). Such a version may not be archived.
    /// </summary>
    public static bool HoldsVersions(ExperimentStatus status) => !IsFinal(status);

    /// <summary>Whether <paramref name="status"/> is final (completed, cancelled): the experiment moves no more.</summary>
    public static bool IsFinal(ExperimentStatus status) => Allowed[status].Length == 0;

    /// <summary>Whether an experiment in <paramref name="status"/> serves its variants: running, or paused (it may resume without a check).</summary>
    public static bool IsLive(ExperimentStatus status) => status is ExperimentStatus.Running or ExperimentStatus.Paused;

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

    /// <summary>
    /// Refuses metric events and exposures for a draft, which has served no one, and a cancelled experiment, which is void;
    /// a paused or completed one served units whose later events still describe what they saw.
    /// </summary>
    /// <param name="path">Where the item that named the experiment is (its <c>experimentId</c> is named in the error).</param>
    /// <param name="item">What was sent, singular: <c>event</c> or <c>exposure</c>.</param>
    internal static void EnsureTakesEvents(Experiment experiment, BatchItemPath path, string item)
    {
        if (experiment.Status is not (ExperimentStatus.Draft or ExperimentStatus.Cancelled))
            return;
        var field = path.Of("experimentId");
        throw new ConflictException("experiment_not_accepting_events",
            $"{field} names experiment '{experiment.Name}', which is {Names.Of(experiment.Status)}; only a running, paused or completed experiment takes {item}s. No {item} of the batch was stored: send the batch again without this {item}{(item == "event" ? " (or with its experimentId, variantId and unitId left out, to count it for its version alone)" : "")}.",
            field);
    }
}
