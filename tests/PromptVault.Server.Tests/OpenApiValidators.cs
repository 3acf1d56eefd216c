using System.Diagnostics;

namespace PromptVault.Server.Tests;

/// <summary>
/// The npm validators of the OpenAPI document, installed once into the test's output folder. Without node and npm the
/// tests that need them report themselves skipped; .ci/run installs them, and in CI a skip fails the build.
/// </summary>
internal static class OpenApiValidators
{
    // Pinned so a new release cannot fail the build by itself; redocly 2.77 is the last to support node 20.
    private static readonly string[] Packages = ["@redocly/cli@2.77.0", "@apidevtools/swagger-cli@4.0.4"];

    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    private static string Folder => Path.Combine(AppContext.BaseDirectory, "openapi-validators");

    /// <summary>Runs a validator installed by <see cref="Packages"/> (<c>redocly</c>, <c>swagger-cli</c>) and returns its exit code and output (stdout, then stderr).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string tool, params string[] arguments)
    {
        await InstallAsync();
        return await ExecAsync(Path.Combine(Folder, "node_modules", ".bin", tool), Folder, arguments);
    }

    private static async Task InstallAsync()
    {
        await InstallLock.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            var marker = Path.Combine(Folder, "installed");
            if (File.Exists(marker) && await File.ReadAllTextAsync(marker, TestContext.Current.CancellationToken) == string.Join('\n', Packages)) return;
            if (!OnPath("node") || !OnPath("npm"))
                Assert.Skip("node and npm are not on PATH: the OpenAPI validators (@redocly/cli, swagger-cli) are npm packages.");
            Directory.CreateDirectory(Folder);
            var (exitCode, output) = await ExecAsync("npm", Folder, ["install", "--no-audit", "--no-fund", "--prefix", Folder, .. Packages]);
            Assert.True(exitCode == 0, $"npm install {string.Join(' ', Packages)} failed:\n{output}");
            await File.WriteAllTextAsync(marker, string.Join('\n', Packages), TestContext.Current.CancellationToken);
        }
        finally
        {
            InstallLock.Release();
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(dir => File.Exists(Path.Combine(dir, program)));

    private static async Task<(int ExitCode, string Output)> ExecAsync(string program, string workingDirectory, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["REDOCLY_TELEMETRY"] = "off", ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true", ["NO_COLOR"] = "1" },
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output + "\n" + await error);
    }
}
