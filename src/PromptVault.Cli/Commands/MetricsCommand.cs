using System.Globalization;
using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary><c>metrics NAME [--version V] [--period P]</c>: a version's aggregates (default: the production version, all time).</summary>
internal sealed class MetricsCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string name, string? version, MetricPeriod period, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            if (version is null)
            {
                var prompt = await client.GetPromptAsync(name, cancellationToken);
                version = prompt.Labels.GetValueOrDefault(Label.Production) ?? prompt.LatestVersion.Version;
            }
            var metrics = await client.GetVersionMetricsAsync(name, version, period, cancellationToken);
            return context.Print(remote.Json, metrics, () =>
            {
                var s = metrics.Summary;
                var window = metrics.From is { } from ? $"since {Tables.Time(from)}" : "all time";
                context.Out.WriteLine($"{metrics.PromptName} {metrics.Version}, {Names.Of(metrics.Period)} ({window}): {s.Count:N0} event{(s.Count == 1 ? "" : "s")}");
                var table = Tables.Create("Metric", "Value", "n");
                table.AddRow(Tables.Cells("error rate", ResultsText.Percent(s.ErrorRate), Count(s.Count)));
                table.AddRow(Tables.Cells("conversion rate", ResultsText.Percent(s.ConversionRate), Count(s.ConversionTrials)));
                table.AddRow(Tables.Cells("latency mean / p50 / p95 / p99 (ms)",
                    string.Join(" / ", [Number(s.LatencyMs.Mean, "0.#"), .. new[] { s.LatencyMs.P50, s.LatencyMs.P95, s.LatencyMs.P99 }.Select(ResultsText.Percentile)]), Count(s.LatencyMs.N)));
                table.AddRow(Tables.Cells("input tokens (mean)", Number(s.InputTokens.Mean, "0.#"), Count(s.InputTokens.N)));
                table.AddRow(Tables.Cells("output tokens (mean)", Number(s.OutputTokens.Mean, "0.#"), Count(s.OutputTokens.N)));
                table.AddRow(Tables.Cells("cost mean / total", $"{ResultsText.Cost(s.Cost.Mean)} / {ResultsText.Cost(s.Cost.Total)}", Count(s.Cost.N)));
                table.AddRow(Tables.Cells("quality score (mean)", Number(s.QualityScore.Mean, "0.###"), Count(s.QualityScore.N)));
                table.AddRow(Tables.Cells("user feedback (mean)", Number(s.UserFeedback.Mean, "0.###"), Count(s.UserFeedback.N)));
                context.Console.Write(table);
            });
        }, cancellationToken);

    private static string Number(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "–";

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
