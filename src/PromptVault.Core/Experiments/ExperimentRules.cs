using System.Globalization;
using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Experiments;

/// <summary>The rules a new experiment must follow (SPEC §3); each failure names the field at fault.</summary>
public static class ExperimentRules
{
    public const int MaxVariants = 20;
    public const int DefaultMinimumSampleSize = 100;
    public const double DefaultConfidenceLevel = 0.95;
    public const double DefaultMinimumDetectableEffect = 0.10;
    public const double DefaultPower = 0.8;
    public const MetricName DefaultTargetMetric = MetricName.ConversionRate;
    public const int MinMinimumSampleSize = 1;
    public const double MinConfidenceLevel = 0.5, MaxConfidenceLevel = 0.9999;
    public const double MinMinimumDetectableEffect = 0.001, MaxMinimumDetectableEffect = 10;
    public const double MinPower = 0.5, MaxPower = 0.99;
    public const double MinGuardrailThreshold = 0, MaxGuardrailThreshold = 10;

    /// <summary>Checks everything that needs no stored data: names, weights, numbers, guardrails.</summary>
    public static void Validate(CreateExperimentRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        PromptRules.ValidatePromptName(request.Prompt, "prompt");
        ValidateExperiment(request, stored: false);
    }

    /// <summary>As <see cref="Validate"/>, all but <c>prompt</c>: an experiment as stored (an import's) names its prompt by id.</summary>
    /// <param name="stored">
    /// True for an experiment a store already held (an import's row): it is held to the rules every stored experiment met,
    /// not to those added since for new ones, so that any export imports again. The one such rule so far: a guardrail
    /// allowing a fall of 100% or more on a higher-is-better metric, refused at creation since stop 42; an experiment created
    /// before keeps it, and it never breaches (docs/statistics.md).
    /// </param>
    public static void ValidateExperiment(CreateExperimentRequest request, bool stored)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidateName(request.Name, "name");
        PromptRules.ValidateDescription(request.Description);
        ValidateVariants(request.Variants);

        if (request.MinimumSampleSize < MinMinimumSampleSize)
            throw Invalid("minimumSampleSize", $"minimumSampleSize must be at least {MinMinimumSampleSize}, got {request.MinimumSampleSize}.");
        InRange(request.ConfidenceLevel, "confidenceLevel", MinConfidenceLevel, MaxConfidenceLevel, "between {0} and {1} (e.g. 0.95)");
        InRange(request.MinimumDetectableEffect, "minimumDetectableEffect", MinMinimumDetectableEffect, MaxMinimumDetectableEffect, "a relative change between {0} and {1} (0.10 is 10%)");
        InRange(request.Power, "power", MinPower, MaxPower, "between {0} and {1} (e.g. 0.8)");
        ValidateGuardrails(request.Guardrails, stored);
    }

    private static void ValidateVariants(IReadOnlyList<VariantRequest>? variants)
    {
        if (variants is null || variants.Count < 2)
            throw Invalid("variants", $"variants needs at least two entries (the first is the control), got {variants?.Count ?? 0}.");
        if (variants.Count > MaxVariants)
            throw Invalid("variants", $"variants has {variants.Count} entries; the limit is {MaxVariants}.");

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < variants.Count; i++)
        {
            var field = $"variants[{i}]";
            var variant = variants[i] ?? throw Invalid(field, $"{field} must be an object with name, versionId and weight.");
            ValidateName(variant.Name, $"{field}.name");
            if (!names.Add(variant.Name!.Trim()))
                throw Invalid($"{field}.name", $"{field}.name '{PromptRules.Shorten(variant.Name)}' is used by another variant; names must be unique.");
            RequireText(variant.VersionId, $"{field}.versionId");
            if (variant.Weight is not { } weight)
                throw Invalid($"{field}.weight", $"{field}.weight is required: the variant's percent of traffic.");
            if (weight <= 0 || weight > 100 || weight * (Assignment.Buckets / 100) % 1 != 0)
                throw Invalid($"{field}.weight", $"{field}.weight must be a percentage above 0 and at most 100 in steps of 0.01, got {weight}.");
        }
        var total = variants.Sum(v => v.Weight!.Value);
        if (total != 100)
            throw Invalid("variants", $"the variants' weights sum to {total}; they must sum to 100.");
    }

    /// <summary>
    /// An A/A test: two or more variants, every one serving the same version (a check of the assignment and the statistics,
    /// docs/statistics.md). A winner of it can only be a false positive.
    /// </summary>
    public static bool IsAaTest(IReadOnlyCollection<string?> versionIds) =>
        versionIds.Count > 1 && versionIds.All(id => id is not null) && versionIds.Distinct(StringComparer.Ordinal).Count() == 1;

    /// <summary>An experiment's or a variant's name.</summary>
    public static void ValidateName(string? name, string field)
    {
        RequireText(name, field);
        PromptRules.ValidateLength(name, PromptRules.MaxNameLength, field);
        PromptRules.ValidateDisplayName(name, field);
    }

    private static void ValidateGuardrails(IReadOnlyList<GuardrailRequest>? guardrails, bool stored)
    {
        if (guardrails is null)
            return;
        var metrics = new HashSet<MetricName>();
        for (var i = 0; i < guardrails.Count; i++)
        {
            var field = $"guardrails[{i}]";
            var guardrail = guardrails[i] ?? throw Invalid(field, $"{field} must be an object with metric and threshold.");
            if (guardrail.Metric is not { } metric)
                throw Invalid($"{field}.metric", $"{field}.metric is required, one of {Names.AllOf<MetricName>()}.");
            if (!metrics.Add(metric))
                throw Invalid($"{field}.metric", $"{field}.metric {Names.Of(metric)} has another guardrail already.");
            if (guardrail.Threshold is not { } threshold)
                throw Invalid($"{field}.threshold", $"{field}.threshold is required: the worst relative change allowed (0.10 is 10%).");
            InRange(threshold, $"{field}.threshold", MinGuardrailThreshold, MaxGuardrailThreshold, "a relative change between {0} and {1} (0.10 is 10%)");
            // A fall of 100% takes a nonnegative metric to 0, which it can always reach: nothing could breach the guardrail.
            if (!stored && !metric.LowerIsBetter() && threshold >= 1)
                throw Invalid($"{field}.threshold", $"{field}.threshold for {Names.Of(metric)} is the largest fall allowed and must be at least 0 and below 1 (a fall of 100% would allow it to reach 0, so nothing could breach it), got {threshold}.");
        }
    }

    private static void RequireText(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw Invalid(field, $"{field} is required and must not be empty.");
    }

    private static void InRange(double? value, string field, double min, double max, string expected)
    {
        if (value is { } number && !(number >= min && number <= max))
            throw Invalid(field, $"{field} must be {string.Format(CultureInfo.InvariantCulture, expected, min, max)}, got {number}.");
    }

    private static InvalidInputException Invalid(string field, InvariantMessage message) => new("invalid_experiment", message.ToStringAndClear(), field);
}
