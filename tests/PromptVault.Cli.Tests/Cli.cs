using PromptVault.Server.Tests;

namespace PromptVault.Cli.Tests;

/// <summary>Runs real `promptvault` commands in-process against a server, capturing stdout, stderr and the exit code.</summary>
internal static class Cli
{
    /// <summary>No PROMPTVAULT_* variables at all: for commands that need no server, or that must fail without one.</summary>
    public static readonly IReadOnlyDictionary<string, string?> NoEnvironment = new Dictionary<string, string?>();

    public static Task<CliResult> RunAsync(RunningServer server, string? apiKey, params string[] args) => RunAsync(server, apiKey, null, args);

    /// <summary>Runs against <paramref name="server"/>, waiting at most <paramref name="requestTimeout"/> for an answer unless the command sets its own.</summary>
    public static async Task<CliResult> RunAsync(RunningServer server, string? apiKey, TimeSpan? requestTimeout, params string[] args)
    {
        var environment = new Dictionary<string, string?>
        {
            ["PROMPTVAULT_URL"] = server.BaseAddress.ToString(),
            ["PROMPTVAULT_API_KEY"] = apiKey ?? server.AdminKey,
        };
        return await RunAsync(environment, requestTimeout, args);
    }

    /// <summary>Runs with exactly <paramref name="environment"/> (never the machine's PROMPTVAULT_* variables).</summary>
    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?> environment, params string[] args) => RunAsync(environment, null, args);

    private static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?> environment, TimeSpan? requestTimeout, string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await CliApp.RunAsync(args, stdout, stderr, environment, TestContext.Current.CancellationToken, requestTimeout);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }
}

internal sealed record CliResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}
