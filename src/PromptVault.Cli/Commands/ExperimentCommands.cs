using System.Globalization;
using PromptVault.Client;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary><c>experiment create|list|start|pause|complete|cancel|results</c>.</summary>
internal sealed class ExperimentCommands(CliContext context)
{
    /// <param name="create">The request, with variants and guardrails still as the command line's text.</param>
    public Task<int> CreateAsync(RemoteSettings remote, CreateExperimentRequest create, string[] variants, string[] guardrails, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var request = create with
            {
                Variants = variants.Select(ParseVariant).ToList(),
                Guardrails = guardrails.Length == 0 ? null : guardrails.Select(ParseGuardrail).ToList(),
            };
            var experiment = await client.CreateExperimentAsync(request, cancellationToken);
            return WriteExperiment(remote, experiment, $"Created experiment {experiment.Name} ({experiment.Id}) on {experiment.Prompt}, in draft: start it with 'promptvault experiment start {experiment.Id}'.");
        }, cancellationToken);

    public Task<int> ListAsync(RemoteSettings remote, string? prompt, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var list = await client.ListExperimentsAsync(prompt, cancellationToken);
            return context.Print(remote.Json, list, () =>
            {
                var table = Tables.Create("Id", "Name", "Prompt", "Status", "Target", "Variants", "Winner", "Created");
                foreach (var e in list.Experiments)
                {
                    table.AddRow(Tables.Cells(e.Id, e.Name, e.Prompt, Names.Of(e.Status), Names.Of(e.TargetMetric),
                        string.Join(", ", e.Variants.Select(v => $"{v.Name} {v.Version} {v.Weight}%")),
                        e.Variants.FirstOrDefault(v => v.Id == e.Winner)?.Name, Tables.Time(e.CreatedAt)));
                }
                Tables.Write(context, table, prompt is null
                    ? "No experiments yet: create one with 'promptvault experiment create NAME --prompt P --variant NAME=VERSION:WEIGHT ...'."
                    : $"No experiments on prompt '{prompt}' yet.");
            });
        }, cancellationToken);

    public Task<int> ChangeAsync(RemoteSettings remote, string id, ExperimentCommand command, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var experiment = await client.ChangeExperimentAsync(id, command, cancellationToken);
            var summary = $"Experiment {experiment.Name} is {Names.Of(experiment.Status)}."
                + (command == ExperimentCommand.Complete ? " " + Outcome(experiment) : "");
            return WriteExperiment(remote, experiment, summary);
        }, cancellationToken);

    public Task<int> ResultsAsync(RemoteSettings remote, string id, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var results = await client.GetResultsAsync(id, cancellationToken);
            return context.Print(remote.Json, results, () => ResultsTable.Write(context, results));
        }, cancellationToken);

    /// <summary>The winner of a completed experiment, and what became of its promotion when <c>promoteWinner</c> asked for one.</summary>
    private static string Outcome(ExperimentResponse completed)
    {
        if (completed.Variants.FirstOrDefault(v => v.Id == completed.Winner) is not { } winner)
            return "No variant won significantly.";
        var line = $"Winner: {winner.Name} ({winner.Version}).";
        if (completed.PromotionRefused is { } refused)
            return $"{line} It was NOT promoted to production: {refused}";
        return completed.PromoteWinner ? $"{line} It is in production." : line;
    }

    /// <summary>Parses <c>NAME=VERSION:WEIGHT</c> (e.g. <c>control=1.0.0:50</c>).</summary>
    private static VariantRequest ParseVariant(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var colon = text.LastIndexOf(':');
        if (equals <= 0 || colon < equals + 2 || !decimal.TryParse(text[(colon + 1)..], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var weight))
            throw CliException.Usage($"--variant '{text}' is not NAME=VERSION:WEIGHT (e.g. control=1.0.0:50).");
        return new VariantRequest(text[..equals], text[(equals + 1)..colon], weight);
    }

    /// <summary>Parses <c>METRIC=THRESHOLD</c> (e.g. <c>errorRate=0.1</c>); a threshold of NaN, Infinity or 1e400 has no JSON to send.</summary>
    private static GuardrailRequest ParseGuardrail(string text)
    {
        var parts = text.Split('=', 2);
        if (parts.Length != 2 || !Names.TryParse<MetricName>(parts[0], out var metric)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var threshold) || !double.IsFinite(threshold))
            throw CliException.Usage($"--guardrail '{text}' is not METRIC=THRESHOLD with METRIC one of {Names.AllOf<MetricName>()} (e.g. errorRate=0.1).");
        return new GuardrailRequest(metric, threshold);
    }

    private int WriteExperiment(RemoteSettings remote, ExperimentResponse experiment, string summary) =>
        context.Print(remote.Json, experiment, () =>
        {
            context.Out.WriteLine(summary);
            var table = Tables.Create("Variant", "Id", "Version", "Weight");
            foreach (var v in experiment.Variants)
                table.AddRow(Tables.Cells(v.IsControl ? $"{v.Name} (control)" : v.Name, v.Id, v.Version, $"{v.Weight}%"));
            context.Console.Write(table);
        });
}
