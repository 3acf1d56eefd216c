using System.Globalization;
using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary>An experiment's results for people: the target metric per variant, then the other metrics, SRM and the winner.</summary>
internal static class ResultsTable
{
    public static void Write(CliContext context, ExperimentResults results)
    {
        var target = Names.Of(results.TargetMetric);
        var names = results.Variants.ToDictionary(v => v.VariantId, v => v.Name);
        context.Out.WriteLine($"Target: {target} (confidence {Percent(results.ConfidenceLevel)}), status {Names.Of(results.Status)}");

        var table = Tables.Create("Variant", "Exposures", "n", target, "Lift vs control", $"{Percent(results.ConfidenceLevel)} interval", "p", "Holm p", "Sequential p (Holm)", "Chance to beat");
        foreach (var variant in results.Variants)
        {
            var m = variant.Metrics[target];
            var isRate = results.TargetMetric.IsRate();
            table.AddRow(Tables.Cells(
                variant.IsControl ? $"{variant.Name} (control)" : variant.Name,
                variant.Exposures.ToString("N0", CultureInfo.InvariantCulture),
                m.N.ToString("N0", CultureInfo.InvariantCulture),
                m.Value is { } value ? isRate ? Percent(value) : Number(value) : "–",
                variant.IsControl ? "" : SignedPercent(m.RelativeDifference),
                variant.IsControl || m.RelativeCi is not [var lo, var hi] ? "" : $"{SignedPercent(lo)} to {SignedPercent(hi)}",
                P(m.PValue), P(m.AdjustedPValue), P(m.AdjustedSequentialPValue),
                variant.IsControl || m.ChanceToBeatControl is not { } chance ? "" : Percent(chance)));
        }
        context.Console.Write(table);

        var srm = results.Srm.PValue is { } srmP
            ? results.Srm.Mismatch ? $"MISMATCH (p = {P(srmP)}): exposures do not follow the weights; do not trust these results." : $"ok (p = {P(srmP)})"
            : "no exposures yet";
        context.Out.WriteLine($"Sample ratio: {srm}");
        if (results.RequiredSampleSize is { } required && results.Status is not (ExperimentStatus.Completed or ExperimentStatus.Cancelled))
            context.Out.WriteLine($"Sample size: {required:N0} per variant needed for the minimum detectable effect; {results.RemainingSampleSize ?? 0:N0} more to go.");
        foreach (var guardrail in results.Guardrails.Where(g => g.Breached))
            context.Out.WriteLine($"Guardrail breached: {names.GetValueOrDefault(guardrail.VariantId)} worsens {Names.Of(guardrail.Metric)} by {SignedPercent(guardrail.RelativeChange)} (limit {Percent(guardrail.Threshold)}).");
        context.Out.WriteLine(results.Winner is { } winner ? $"Winner: {names.GetValueOrDefault(winner, winner)}" : "Winner: none yet (no significant difference under the sequential test)");
    }

    private static string Percent(double value) => value.ToString("0.##%", CultureInfo.InvariantCulture);

    private static string SignedPercent(double? value) => value is { } v ? v.ToString("+0.0%;-0.0%;0.0%", CultureInfo.InvariantCulture) : "–";

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string P(double? value) => value switch
    {
        null => "",
        < 0.0001 => "<0.0001",
        { } v => v.ToString("0.####", CultureInfo.InvariantCulture),
    };
}
