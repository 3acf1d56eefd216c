using PromptVault.Client.Events;

namespace PromptVault.Client.Tests.Events;

public sealed class DropOldestQueueTests
{
    [Fact]
    public void TryWrite_PastCapacityWhileGrowingAndWrapping_KeepsTheNewestInOrderAndCountsTheDropped()
    {
        var queue = new DropOldestQueue<int>(100); // grows from 64 to 100
        var batch = new List<int>();
        for (var i = 0; i < 50; i++) queue.TryWrite(i, out _);
        queue.ReadInto(batch, 30); // the head moves, so the ring wraps as it fills again
        batch.Clear();

        var dropped = 0;
        for (var i = 50; i < 250; i++)
        {
            queue.TryWrite(i, out var droppedOne);
            if (droppedOne) dropped++;
        }
        queue.ReadInto(batch, 1_000);

        Assert.Equal(Enumerable.Range(150, 100), batch);
        Assert.Equal((120, 120L, 250L, 0), (dropped, queue.Dropped, queue.Written, queue.Count));
    }

    [Fact]
    public async Task WaitForAsync_CompletesAtTheThresholdOrOnComplete_AndACompletedQueueRefusesWrites()
    {
        var queue = new DropOldestQueue<int>(10);
        var three = queue.WaitForAsync(3);
        queue.TryWrite(1, out _);
        queue.TryWrite(2, out _);
        Assert.False(three.IsCompleted);
        queue.TryWrite(3, out _);
        await three.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        var five = queue.WaitForAsync(5);
        Assert.True(queue.Complete());
        await five.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        Assert.False(queue.TryWrite(4, out _));
        Assert.False(queue.Complete());
        Assert.Equal((3, 3L), (queue.Count, queue.Written));
    }
}
