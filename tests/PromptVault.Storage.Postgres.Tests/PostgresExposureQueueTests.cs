using PromptVault.Core.Storage;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>The render exposures' writer when a batch's write fails: no database needed, the write is the test's.</summary>
public sealed class PostgresExposureQueueTests
{
    [Fact]
    public async Task BatchWriteFails_GivenUpWithTheError()
    {
        var givenUp = new List<(string Unit, string Error)>();
        await using var queue = new PostgresExposureQueue(capacity: 4, maxBatch: 10,
            _ => Task.FromException(new InvalidOperationException("the database refused the batch")),
            (lost, error) => { lock (givenUp) givenUp.AddRange(lost.Select(e => (e.UnitId, error.Message))); });

        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-1", Now)));
        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-2", Now)));
        await queue.SettleAsync(TestContext.Current.CancellationToken);

        lock (givenUp) Assert.Equal([("unit-1", "the database refused the batch"), ("unit-2", "the database refused the batch")], givenUp);
    }
}
