using PromptVault.Core.Registry;

namespace PromptVault.Core.Tests.Registry;

public sealed class RegistryChangeFeedTests
{
    [Fact]
    public void Publish_NumbersChangesInOrder_AndReachesSubscribersUntilDisposed()
    {
        var feed = new RegistryChangeFeed();
        var seen = new List<RegistryChange>();
        var subscription = feed.Subscribe(seen.Add);

        feed.Publish(RegistryChangeKind.Prompt, "p1", "support");
        feed.Publish(RegistryChangeKind.ApiKeys);
        subscription.Dispose();
        feed.Publish(RegistryChangeKind.Experiment, "p1", "support");

        Assert.Equal([new(1, RegistryChangeKind.Prompt, "p1", "support"), new(2, RegistryChangeKind.ApiKeys, null, null)], seen);
        Assert.Equal(3, feed.Sequence);
    }

    [Fact]
    public async Task AfterAsync_WriteThrew_StillPublishes()
    {
        var feed = new RegistryChangeFeed();

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            feed.AfterAsync(Task.FromException(new InvalidOperationException("lost a race")), RegistryChangeKind.Prompt, "p1"));

        Assert.Equal(1, feed.Sequence);
    }
}
