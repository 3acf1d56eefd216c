using System.Globalization;
using PromptVault.Core;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Prompts;

namespace PromptVault.Cli.Commands;

/// <summary>
/// <c>test NAME [--version V]</c>: runs a version's test cases on the server (default: the latest version) and prints each
/// case and check, and why a check failed. Exit 1 when the run did not pass, so CI can gate on it (SPEC §6).
/// </summary>
internal sealed class TestCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string name, string? version, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var run = await client.EvaluateAsync(name, version ?? Serving.LatestVersion, cancellationToken);
            return context.Print(remote.Json, run, () => Write(run), run.Status == EvaluationStatus.Passed ? ExitCodes.Success : ExitCodes.Refused);
        }, cancellationToken,
            // A run takes as long as its cases (each bounded by the server's CaseTimeout, so many or slow ones pass any fixed limit), and a
            // request given up on cancels the run unstored: wait for the server.
            timeout: Timeout.InfiniteTimeSpan);

    private void Write(EvaluationRun run)
    {
        foreach (var result in run.Cases)
        {
            context.Out.WriteLine($"{(result.Error is null ? Mark(result.Passed) : "ERROR")} {result.Name}");
            if (result.Error is not null)
                context.Out.WriteLine($"    error: {result.Error}");
            if (result.Output is not null)
                context.Out.WriteLine($"    output ({Measures(result)}): {Excerpt(result.Output)}");
            foreach (var check in result.Checks)
                context.Out.WriteLine($"    {Mark(check.Passed)} {check.Type}: {check.Reason}");
        }
        var failed = run.Cases.Count(c => !c.Passed);
        context.Out.WriteLine();
        context.Out.WriteLine($"{run.PromptName} {run.Version}: {Names.Of(run.Status)}, {run.Cases.Count - failed} of {run.Cases.Count} cases passed (run {run.Id}).");
    }

    private static string Mark(bool passed) => passed ? "PASS" : "FAIL";

    private static string Measures(CaseResult result)
    {
        var measures = new List<string>();
        if (result.LatencyMs is { } latency) measures.Add(string.Create(CultureInfo.InvariantCulture, $"{latency:0} ms"));
        if (result.InputTokens is not null || result.OutputTokens is not null)
            measures.Add($"{result.InputTokens?.ToString(CultureInfo.InvariantCulture) ?? "?"} in + {result.OutputTokens?.ToString(CultureInfo.InvariantCulture) ?? "?"} out tokens");
        if (result.Cost is not null) measures.Add(PromptVault.Core.Analysis.ResultsText.Cost(result.Cost));
        return string.Join(", ", measures);
    }

    private const int ExcerptLength = 100;

    private static string Excerpt(string output)
    {
        var line = output.ReplaceLineEndings("⏎");
        return line.Length <= ExcerptLength ? line : line[..ExcerptLength] + "…";
    }
}
