using Microsoft.Extensions.Logging;
using PromptVault.Core;
using PromptVault.Storage;

namespace PromptVault.Server.Tests.Hosting;

/// <summary><see cref="StoreOutage"/>'s one warning says what the trouble is: a read-only database answers, it does not write.</summary>
public sealed class StoreOutageTests
{
    public static TheoryData<string, string> Troubles => new()
    {
        { "read-only", "Webhook dispatch: the database is read-only (cannot execute UPDATE in a read-only transaction)" },
        { "full", "Webhook dispatch: the database is full (cannot execute UPDATE in a read-only transaction)" },
        { "busy", "Webhook dispatch: the database is busy (cannot execute UPDATE in a read-only transaction)" },
        { "unreachable", "Webhook dispatch: the database is not answering (cannot execute UPDATE in a read-only transaction)" },
    };

    [Theory]
    [MemberData(nameof(Troubles))]
    public void Failed_WarnsOnceWordedByTheCause(string trouble, string expected)
    {
        var cause = new InvalidOperationException("cannot execute UPDATE in a read-only transaction");
        Exception error = trouble switch
        {
            "read-only" => new StoreReadOnlyException("The database cannot be written: nothing was stored.", cause),
            "full" => new StoreFullException("The disk is full: nothing was stored.", cause),
            "busy" => new TimeoutException("Every pooled connection stayed in use; retry the request.", cause),
            _ => new StoreUnavailableException("The database could not be reached; retry the request.", cause),
        };
        using var logs = new LogCapture();
        var outage = new StoreOutage(logs.CreateLogger("loop"), "Webhook dispatch", TimeSpan.FromSeconds(1));

        outage.Failed(error);
        outage.Failed(error);

        // One warning; the further failed try is a debug line (3008), off at the default level.
        var line = Assert.Single(logs.Lines, l => l.Level >= LogLevel.Information);
        Assert.Equal((LogLevel.Warning, 3005), (line.Level, line.EventId));
        Assert.StartsWith(expected + "; trying again", line.Message, StringComparison.Ordinal);
        Assert.Equal([(LogLevel.Warning, 3005), (LogLevel.Debug, 3008)], logs.Lines.Select(l => (l.Level, l.EventId)));
    }
}
