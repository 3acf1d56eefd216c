using System.Net;
using System.Text.Json.Nodes;
using PromptVault.Server.Tests;
using PromptVault.Storage.Testing;

namespace PromptVault.Cli.Tests;

/// <summary>
/// The dashboard's sign-in cookie and antiforgery tokens are protected with a key ring kept in the database: each `serve`
/// process here has its own home folder (where ASP.NET Core keeps its keys by default) and working directory, as on two
/// machines, or as a container restarted with nothing but its database.
/// </summary>
public sealed class DashboardKeyRingTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoServeProcesses_OnOnePostgresDatabase_EachOpensTheDashboardForACookieTheOtherIssued()
    {
        using var homeA = new TempFolder();
        using var homeB = new TempFolder();
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        var adminKey = await AdminKeyAsync("--postgres", database.ConnectionString);
        await using var a = await ServerProcess.StartAsync(["--postgres", database.ConnectionString], homeA.Path, Home(homeA));
        await using var b = await ServerProcess.StartAsync(["--postgres", database.ConnectionString], homeB.Path, Home(homeB));

        var signedInOnA = await SignInAsync(a.BaseAddress, adminKey);
        var signedInOnB = await SignInAsync(b.BaseAddress, adminKey);

        Assert.Equal(HttpStatusCode.Redirect, (await OpenPromptsAsync(b.BaseAddress, cookie: null)).Status); // to /login
        Assert.Equal((HttpStatusCode.OK, true), await OpenPromptsOrSayAsync(b.BaseAddress, signedInOnA));
        Assert.Equal((HttpStatusCode.OK, true), await OpenPromptsOrSayAsync(a.BaseAddress, signedInOnB));
    }

    /// <remarks>Also serve's first admin key: printed once by the start on the new file (<see cref="FirstAdminKey"/> finds
    /// exactly one), and not by the restart.</remarks>
    [Fact]
    public async Task Serve_RestartedOnItsSqliteFile_PrintsNoAdminKey_AndWithANewHomeStillOpensTheDashboardForTheCookieItIssued()
    {
        using var data = new TempFolder();
        using var firstHome = new TempFolder();
        using var newHome = new TempFolder();
        string signedIn;
        await using (var first = await ServerProcess.StartAsync(["--db", data.File("promptvault.db")], data.Path, Home(firstHome)))
            signedIn = await SignInAsync(first.BaseAddress, FirstAdminKey(first));

        await using var restarted = await ServerProcess.StartAsync(["--db", data.File("promptvault.db")], data.Path, Home(newHome));

        Assert.Contains("PromptVault is listening on http://127.0.0.1:", restarted.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("pv_", restarted.Output, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.OK, true), await OpenPromptsOrSayAsync(restarted.BaseAddress, signedIn));
    }

    private static Dictionary<string, string> Home(TempFolder folder) => new() { ["HOME"] = folder.Path };

    private static async Task<string> AdminKeyAsync(string storage, string where)
    {
        var result = await Cli.RunAsync(Cli.NoEnvironment, "admin-key", storage, where, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonNode.Parse(result.Out)!["key"]!.GetValue<string>();
    }

    private static string FirstAdminKey(ServerProcess server)
    {
        const string keyLine = "Created the first admin API key (shown once, store it now): ";
        return server.Output.Split('\n').Single(l => l.StartsWith(keyLine, StringComparison.Ordinal))[keyLine.Length..].Trim();
    }

    private static Task<string> SignInAsync(Uri server, string apiKey) => DashboardSignIn.SignInAsync(server, apiKey, Cancel);

    private static async Task<(HttpStatusCode Status, string Body)> OpenPromptsAsync(Uri server, string? cookie)
    {
        var (status, body, _) = await DashboardSignIn.OpenAsync(server, "/", cookie, Cancel);
        return (status, body);
    }

    /// <summary>The prompts page's status and whether it is the page (not the sign-in form).</summary>
    private static async Task<(HttpStatusCode, bool)> OpenPromptsOrSayAsync(Uri server, string cookie)
    {
        var (status, body) = await OpenPromptsAsync(server, cookie);
        return (status, body.Contains("<h1>Prompts</h1>", StringComparison.Ordinal));
    }
}
