using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Server.Hosting;
using PromptVault.Server.Tests;

namespace PromptVault.Cli.Tests;

/// <summary>
/// A prompt file over the server's body limit: Kestrel answered 413 and closed the connection while the CLI was still
/// sending, so the CLI saw a lost connection, sent the file twice more and said it could not reach the server.
/// </summary>
public sealed class OversizedPushTests
{
    [Fact]
    public async Task Push_FileOverTheBodyLimit_IsTheServers413_SentOnce_NothingStored()
    {
        var ct = TestContext.Current.CancellationToken;
        var creates = 0;
        await using var server = await RunningServer.StartAsync(new ServerSetup([], builder => builder.Services.AddSingleton<IStartupFilter>(
            new CountRequests(request => request.Method == "POST" && request.Path == "/api/prompts", () => Interlocked.Increment(ref creates)))), ct);
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("cli-oversized");
        // Three times the limit: far more than Kestrel reads past a refused body before it closes the connection.
        var description = new string('a', (int)(3 * ServerDefaults.MaxRequestBodyBytes));
        var path = folder.Write("p.md", $"---\nname: {name}\ndescription: {description}\n---\nHello.\n");

        var result = await Cli.RunAsync(server, null, "push", path);

        Assert.True(result.ExitCode == 1, result.ToString()[..Math.Min(2000, result.ToString().Length)]);
        Assert.Equal("", result.Out);
        var expected = $"error (payload_too_large): {path}: The request body is larger than the server accepts here (8 MB).";
        Assert.True(result.Error.StartsWith(expected, StringComparison.Ordinal), result.Error);
        Assert.Contains("hint: nothing was stored; the file is sent in one request", result.Error);
        Assert.Equal(1, creates);
        var list = await Cli.RunAsync(server, null, "list", "--json");
        Assert.DoesNotContain(name, list.Out);
    }

    /// <summary>Counts the requests <paramref name="counted"/> picks, then passes them on.</summary>
    private sealed class CountRequests(Func<HttpRequest, bool> counted, Action count) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, then) =>
            {
                if (counted(context.Request)) count();
                await then(context);
            });
            next(app);
        };
    }
}
