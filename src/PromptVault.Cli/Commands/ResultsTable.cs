using System.Globalization;
using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using Spectre.Console;
using static PromptVault.Core.Analysis.ResultsText;

namespace PromptVault.Cli.Commands;

/// <summary>An experiment's results for people: the target metric per variant, then the other metrics, SRM and the winner.</summary>
internal static class ResultsTable
{
    public static void Write(CliContext context, ExperimentResults results)
    {
        var target = Names.Of(results.TargetMetric);
        var names = results.Variants.ToDictionary(v => v.VariantId, v => v.Name);
        context.Out.WriteLine($"Target: {target} (confidence {Percent(results.ConfidenceLevel)}), status {Names.Of(results.Status)}");

        // The always-valid figures first: they may be watched continuously. The fixed-horizon ones after them hold for
        // one look at a sample size fixed in advance (docs/statistics.md).
        var level = Percent(results.ConfidenceLevel);
        var table = Tables.Create("Variant", "Exposures", "n", target, "Difference", "Always-valid interval", SequentialPLabel,
            "Lift (fixed)", $"{level} interval (fixed)", FixedPLabel, "Chance to beat (fixed)");
        var metric = results.TargetMetric;
        foreach (var variant in results.Variants)
        {
            var m = variant.Metrics[target];
            var comparison = !variant.IsControl;
            table.AddRow(Tables.Cells(
                variant.IsControl ? $"{variant.Name} (control)" : m.Settled ? variant.Name : $"{variant.Name} ({UnsettledNote})",
                variant.Exposures.ToString("N0", CultureInfo.InvariantCulture),
                m.N.ToString("N0", CultureInfo.InvariantCulture),
                Value(metric, m.Value),
                comparison ? Difference(metric, m.Difference) : "",
                comparison ? DifferenceInterval(metric, m.SequentialCi) : "",
                comparison ? P(m.AdjustedSequentialPValue) : "",
                comparison ? SignedPercent(m.RelativeDifference) : "",
                comparison ? SignedPercentInterval(m.RelativeCi) : "",
                comparison ? P(m.AdjustedPValue) : "",
                comparison ? Percent(m.ChanceToBeatControl) : ""));
        }
        context.Console.Write(table);

        var srm = results.Srm.PValue is { } srmP
            ? results.Srm.Mismatch ? $"MISMATCH (always-valid p = {P(srmP)}): exposures do not follow the weights; do not trust these results." : $"ok (always-valid p = {P(srmP)})"
            : "no exposures yet";
        context.Out.WriteLine($"Sample ratio: {srm}");
        // A reason either says why a row's comparisons are empty or, when they are figures, what they rest on (docs/statistics.md).
        foreach (var variant in results.Variants.Where(v => v.Metrics[target].Reason is not null))
            context.Out.WriteLine($"Note on {variant.Name}: {variant.Metrics[target].Reason}.");
        foreach (var variant in results.Variants.Where(v => v.UnattributedEvents > 0))
            context.Out.WriteLine($"Not counted for {variant.Name}: {variant.UnattributedEvents:N0} events from units with no exposure to it.");
        // A finished experiment has no remaining size (it takes no more units), so only one still collecting gets this line.
        if (results is { RequiredSampleSize: { } required, RemainingSampleSize: { } remaining })
            context.Out.WriteLine($"Sample size: {required:N0} units per variant needed for the minimum detectable effect; {remaining:N0} more to go.");
        else if (results.RequiredSampleSizeReason is { } reason)
            context.Out.WriteLine($"Sample size: unknown ({reason}).");
        // Every guardrail's state, and when its metric's comparison is empty or rests on something unusual, why.
        foreach (var guardrail in results.Guardrails)
        {
            var reason = results.Variants.FirstOrDefault(v => v.VariantId == guardrail.VariantId)?.Metrics
                .GetValueOrDefault(Names.Of(guardrail.Metric))?.Reason;
            context.Out.WriteLine($"Guardrail {GuardrailLine(guardrail, names.GetValueOrDefault(guardrail.VariantId))}"
                                  + (reason is null ? "." : $" ({reason})."));
        }
        context.Out.WriteLine($"Decision: {Decision(results)}");
    }
}
