using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using PromptVault.Core.Storage;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>The render exposures' writer when a batch's write fails: no database needed, the write is the test's.</summary>
public sealed class PostgresExposureQueueTests
{
    [Fact]
    public async Task BatchWriteFails_LoggedWithTheErrorAndForgotten()
    {
        var logger = new FakeLogger();
        var forgotten = new List<Exposure>();
        await using var queue = new PostgresExposureQueue(capacity: 4, maxBatch: 10,
            _ => Task.FromException(new InvalidOperationException("the database refused the batch")),
            lost => { lock (forgotten) forgotten.AddRange(lost); }, logger);

        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-1", Now)));
        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-2", Now)));
        await queue.SettleAsync(TestContext.Current.CancellationToken);

        // One line per failed batch (the writer may have taken the two in one batch or two), each with the error.
        var lines = logger.Collector.GetSnapshot();
        Assert.All(lines, line => Assert.Equal((3001, LogLevel.Warning, "the database refused the batch"), (line.Id.Id, line.Level, line.Exception?.Message)));
        Assert.Equal(2, lines.Sum(line => int.Parse(line.GetStructuredStateValue("Count")!, CultureInfo.InvariantCulture)));
        lock (forgotten) Assert.Equal(["unit-1", "unit-2"], forgotten.Select(e => e.UnitId));
    }
}
