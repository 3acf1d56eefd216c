namespace PromptVault.Core.Registry;

/// <summary>
/// Writes are optimistic: one that lost a race with another writer (<see cref="ConcurrentWriteException"/>) reads again and
/// redoes its decision, so a decision is never made on what someone else has just changed.
/// </summary>
internal static class OptimisticWrites
{
    /// <exception cref="ConflictException">Still losing after <paramref name="maxAttempts"/> (<c>concurrent_modification</c>).</exception>
    public static async Task<T> RetryAsync<T>(int maxAttempts, Func<Task<T>> write)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await write();
            }
            catch (ConcurrentWriteException) when (attempt < maxAttempts)
            {
                // Another writer changed what we read; read again and redo the decision.
            }
            catch (ConcurrentWriteException e)
            {
                throw new ConflictException("concurrent_modification", $"gave up after {maxAttempts} concurrent attempts: {e.Message}");
            }
        }
    }
}
