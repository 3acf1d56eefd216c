using PromptVault.Core.Metrics;

namespace PromptVault.Core.Analysis;

// Experiments are analysed by unit (SPEC §3): each unit's events are summed per variant they name (UnitSums), and each
// variant keeps the sufficient statistics of its exposed units' sums (VariantUnitStats). Replacing one unit's sums is
// O(1), so recording an event and reading results cost the same at any number of units.

/// <summary>How many of a unit's events carry a measure, and their sum.</summary>
public readonly record struct MeasureSum(long Count, double Sum)
{
    public MeasureSum Add(double value) => new(Count + 1, Sum + value);
}

/// <summary>
/// One unit's events that named one variant of an experiment: per ratio metric the events that carry it and their sum,
/// and whether any of them converted.
/// </summary>
public readonly record struct UnitSums(
    long Events,
    long Errors,
    bool Converted,
    MeasureSum LatencyMs,
    MeasureSum Cost,
    MeasureSum QualityScore,
    MeasureSum UserFeedback)
{
    public UnitSums Add(MetricEvent metricEvent)
    {
        ArgumentNullException.ThrowIfNull(metricEvent);
        return new(
            Events + 1,
            Errors + (metricEvent.Error is null ? 0 : 1),
            Converted || metricEvent.Converted == true,
            metricEvent.LatencyMs is { } latency ? LatencyMs.Add(latency) : LatencyMs,
            metricEvent.Cost is { } cost ? Cost.Add(cost) : Cost,
            metricEvent.QualityScore is { } quality ? QualityScore.Add(quality) : QualityScore,
            metricEvent.UserFeedback is { } feedback ? UserFeedback.Add(feedback) : UserFeedback);
    }

    /// <summary>The unit's (events carrying it, sum) for a ratio metric.</summary>
    public MeasureSum Of(MetricName metric) => metric switch
    {
        MetricName.ErrorRate => new(Events, Errors),
        MetricName.AvgLatencyMs => LatencyMs,
        MetricName.AvgCost => Cost,
        MetricName.AvgQualityScore => QualityScore,
        MetricName.AvgUserFeedback => UserFeedback,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "not a ratio metric"),
    };
}

/// <summary>
/// The sufficient statistics of a ratio metric over units, for the delta method: K units with n_u &gt; 0 events carrying
/// the metric, and the sums of n, s, n², s², n·s over them, where s is the unit's sum shifted by <see cref="Shift"/>
/// (s' = s − Shift·n). The shift (the first value seen) keeps the squares small, so the variance survives values like
/// 100,000 ± 0.005; the ratio's delta-method variance does not depend on it.
/// </summary>
public readonly record struct RatioMoments(long Units, double Shift, double SumN, double SumS, double SumNN, double SumSS, double SumNS)
{
    /// <summary>Σs / Σn over the units.</summary>
    public double Mean => SumN > 0 ? Shift + SumS / SumN : double.NaN;

    /// <summary>Adds a unit's contribution (nothing when it carries no value).</summary>
    public RatioMoments Add(MeasureSum unit)
    {
        if (unit.Count == 0)
            return this;
        var shift = Units == 0 ? unit.Sum / unit.Count : Shift;
        var moments = Units == 0 ? new RatioMoments(0, shift, 0, 0, 0, 0, 0) : this;
        double n = unit.Count, s = unit.Sum - shift * n;
        return moments with
        {
            Units = moments.Units + 1, SumN = moments.SumN + n, SumS = moments.SumS + s,
            SumNN = moments.SumNN + n * n, SumSS = moments.SumSS + s * s, SumNS = moments.SumNS + n * s,
        };
    }

    /// <summary>Removes a contribution added before with <see cref="Add"/>.</summary>
    public RatioMoments Remove(MeasureSum unit)
    {
        if (unit.Count == 0)
            return this;
        if (Units <= 1)
            return default;
        double n = unit.Count, s = unit.Sum - Shift * n;
        return this with
        {
            Units = Units - 1, SumN = SumN - n, SumS = SumS - s, SumNN = SumNN - n * n, SumSS = SumSS - s * s, SumNS = SumNS - n * s,
        };
    }

    /// <summary>
    /// Both sets of units together, in this one's shift: <paramref name="other"/>'s s' = s − Shift·n becomes
    /// s' + δ·n with δ its shift minus this one's.
    /// </summary>
    public RatioMoments Merge(RatioMoments other)
    {
        if (other.Units == 0)
            return this;
        if (Units == 0)
            return other;
        var delta = other.Shift - Shift;
        return this with
        {
            Units = Units + other.Units,
            SumN = SumN + other.SumN,
            SumS = SumS + other.SumS + delta * other.SumN,
            SumNN = SumNN + other.SumNN,
            SumSS = SumSS + other.SumSS + 2 * delta * other.SumNS + delta * delta * other.SumNN,
            SumNS = SumNS + other.SumNS + delta * other.SumNN,
        };
    }

    /// <summary>The same units with every sum multiplied by <paramref name="factor"/> (their counts unchanged).</summary>
    public RatioMoments Scale(double factor) => this with
    {
        Shift = Shift * factor, SumS = SumS * factor, SumSS = SumSS * factor * factor, SumNS = SumNS * factor,
    };

    /// <summary>The delta-method variance of <see cref="Mean"/> across units (Deng, Knoblich &amp; Lu 2018); NaN below two units.</summary>
    public double VarianceOfMean
    {
        get
        {
            if (Units < 2 || SumN <= 0)
                return double.NaN;
            double k = Units, meanN = SumN / k, ratio = SumS / SumN;
            var varS = (SumSS - SumS * SumS / k) / (k - 1);
            var varN = (SumNN - SumN * SumN / k) / (k - 1);
            var cov = (SumNS - SumS * SumN / k) / (k - 1);
            return Math.Max(0, (varS - 2 * ratio * cov + ratio * ratio * varN) / (k * meanN * meanN));
        }
    }
}

/// <summary>
/// One variant's unit-level statistics: its exposed units' converted count and ratio moments per metric, plus the
/// events that named the variant but do not count for it (no exposure, or an exposure to another variant).
/// </summary>
public sealed record VariantUnitStats
{
    /// <summary>Exposed units with at least one <c>converted: true</c> event naming this variant.</summary>
    public long ConvertedUnits { get; init; }

    public RatioMoments ErrorRate { get; init; }
    public RatioMoments LatencyMs { get; init; }
    public RatioMoments Cost { get; init; }
    public RatioMoments QualityScore { get; init; }
    public RatioMoments UserFeedback { get; init; }

    /// <summary>Events naming this variant that do not count for it.</summary>
    public long UnattributedEvents { get; init; }

    /// <summary>The statistics after an exposed unit's sums changed from <paramref name="before"/> (default when it had none) to <paramref name="after"/>.</summary>
    public VariantUnitStats Replace(UnitSums before, UnitSums after) => this with
    {
        ConvertedUnits = ConvertedUnits + (after.Converted ? 1 : 0) - (before.Converted ? 1 : 0),
        ErrorRate = ErrorRate.Remove(before.Of(MetricName.ErrorRate)).Add(after.Of(MetricName.ErrorRate)),
        LatencyMs = LatencyMs.Remove(before.LatencyMs).Add(after.LatencyMs),
        Cost = Cost.Remove(before.Cost).Add(after.Cost),
        QualityScore = QualityScore.Remove(before.QualityScore).Add(after.QualityScore),
        UserFeedback = UserFeedback.Remove(before.UserFeedback).Add(after.UserFeedback),
    };

    public VariantUnitStats AddUnattributed(long events) => this with { UnattributedEvents = UnattributedEvents + events };

    public RatioMoments Of(MetricName metric) => metric switch
    {
        MetricName.ErrorRate => ErrorRate,
        MetricName.AvgLatencyMs => LatencyMs,
        MetricName.AvgCost => Cost,
        MetricName.AvgQualityScore => QualityScore,
        MetricName.AvgUserFeedback => UserFeedback,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "not a ratio metric"),
    };
}
