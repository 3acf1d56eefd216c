using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Npgsql;
using PromptVault.Core;
using PromptVault.Storage;

namespace PromptVault.Server.Tests.Hosting;

/// <summary>
/// <see cref="StoreOutage"/>'s one warning says what the trouble is (a read-only database answers, it does not write) and its
/// causes in one line, the store's exception and the driver's under it.
/// </summary>
public sealed class StoreOutageTests
{
    public static TheoryData<string, string> Troubles => new()
    {
        { "read-only", "Webhook dispatch: the database is read-only (StoreReadOnlyException: The database cannot be written: nothing was stored. ---> " + Cause + ")" },
        { "full", "Webhook dispatch: the database is full (StoreFullException: The disk is full: nothing was stored. ---> " + Cause + ")" },
        { "busy", "Webhook dispatch: the database is busy (TimeoutException: Every pooled connection stayed in use; retry the request. ---> " + Cause + ")" },
        { "unreachable", "Webhook dispatch: the database is not answering (StoreUnavailableException: The database could not be reached; retry the request. ---> " + Cause + ")" },
    };

    // What the driver met, under the store's exception: the warning says it down to the socket's "Connection refused".
    private const string Cause = "NpgsqlException: Failed to connect to 127.0.0.1:5432 ---> SocketException: Connection refused";

    [Theory]
    [MemberData(nameof(Troubles))]
    public void Failed_WarnsOnceWordedByTheCause(string trouble, string expected)
    {
        var cause = new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused, "Connection refused"));
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
