using System.Threading.Channels;

namespace PromptVault.Storage;

/// <summary>
/// An acknowledged write waiting for the one writer that commits many of them in one transaction (group commit): it is
/// applied with the others of its group, refused alone if it fails (its neighbours still commit), and answered only after
/// the transaction that holds it has committed. Both stores' writers take their groups with <see cref="TakeGroup"/>.
/// </summary>
/// <typeparam name="TContext">What a write is applied to: the writer's transaction.</typeparam>
/// <param name="weight">Its weight in a group: the events of a batch, 1 for an exposure.</param>
/// <param name="rank">A group applies its writes by rank (lower first), each rank in arrival order.</param>
internal abstract class GroupedWrite<TContext>(int weight, int rank, CancellationToken cancellationToken)
{
    public int Weight { get; } = weight;

    public int Rank { get; } = rank;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>Applies the write in the group's transaction; throws when it must be refused (clearing an earlier try's refusal).</summary>
    public abstract Task ApplyAsync(TContext context);

    /// <summary>Records that this write failed alone and was rolled back; reported once the group is settled.</summary>
    public abstract void Refuse(Exception error);

    /// <summary>Reports the result (or the refusal) after the group's commit.</summary>
    public abstract void Complete();

    /// <summary>Reports that the group's transaction failed, so this write is not stored.</summary>
    public abstract void Fail(Exception error);

    /// <summary>Reports that the write was cancelled before the writer took it, so it is not stored.</summary>
    public abstract void Cancel();

    /// <summary>
    /// Takes queued writes into <paramref name="group"/> until it weighs <paramref name="maxWeight"/> (the write that crosses
    /// the cap is the group's last), ordered by rank; a write cancelled before it was taken is answered as cancelled and left out.
    /// </summary>
    /// <returns>The group's weight.</returns>
    public static int TakeGroup<TWrite>(ChannelReader<TWrite> queue, int maxWeight, List<TWrite> group)
        where TWrite : GroupedWrite<TContext>
    {
        var weight = 0;
        while (weight < maxWeight && queue.TryRead(out var write))
        {
            if (write.CancellationToken.IsCancellationRequested)
            {
                write.Cancel();
                continue;
            }
            var at = group.Count;
            while (at > 0 && group[at - 1].Rank > write.Rank)
                at--;
            group.Insert(at, write);
            weight += write.Weight;
        }
        return weight;
    }
}

/// <summary>A <see cref="GroupedWrite{TContext}"/> whose caller waits for its result.</summary>
internal class GroupedWrite<TContext, TResult>(int weight, int rank, Func<TContext, Task<TResult>> apply, CancellationToken cancellationToken)
    : GroupedWrite<TContext>(weight, rank, cancellationToken)
{
    // Continuations run off the writer, which goes on to the next group.
    private readonly TaskCompletionSource<TResult> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TResult? result;
    private Exception? refusal;

    public Task<TResult> Task => completion.Task;

    public override async Task ApplyAsync(TContext context)
    {
        refusal = null;
        result = await apply(context);
    }

    public override void Refuse(Exception error) => refusal = error;

    public override void Complete()
    {
        if (refusal is OperationCanceledException)
            completion.TrySetCanceled(CancellationToken);
        else if (refusal is not null)
            completion.TrySetException(refusal);
        else
            completion.TrySetResult(result!);
    }

    public override void Fail(Exception error) => completion.TrySetException(refusal ?? error);

    public override void Cancel() => completion.TrySetCanceled(CancellationToken);
}
