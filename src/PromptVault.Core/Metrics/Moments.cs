namespace PromptVault.Core.Metrics;

/// <summary>
/// Count, mean and M2 (the sum of squared deviations from the mean) of one measure: enough for its mean and variance,
/// updated by Welford's method and merged by Chan, Golub &amp; LeVeque's formula. Unlike a sum of squares, M2 keeps the
/// variance of values like 100,000 ± 0.005 to full precision. A rate is the moments of a 0/1 measure.
/// </summary>
/// <param name="Mean">The mean; 0 when empty.</param>
public readonly record struct Moments(long Count, double Mean, double M2)
{
    public double Sum => Count * Mean;

    /// <summary>Σx², derived (M2 + n·mean²); for display and comparisons only, never for a variance.</summary>
    public double SumOfSquares => M2 + Count * Mean * Mean;

    /// <summary>The sample variance M2 / (n − 1); NaN below two values.</summary>
    public double SampleVariance => Count < 2 ? double.NaN : Math.Max(0, M2 / (Count - 1));

    /// <summary>Welford (1962).</summary>
    public Moments Add(double value)
    {
        var count = Count + 1;
        var delta = value - Mean;
        var mean = Mean + delta / count;
        return new(count, mean, M2 + delta * (value - mean));
    }

    /// <summary>Chan, Golub &amp; LeVeque (1979): M2 = M2a + M2b + δ²·na·nb/n, δ = mean_b − mean_a.</summary>
    public static Moments operator +(Moments a, Moments b)
    {
        if (b.Count == 0)
            return a;
        if (a.Count == 0)
            return b;
        var count = a.Count + b.Count;
        var delta = b.Mean - a.Mean;
        var share = (double)b.Count / count;
        return new(count, a.Mean + delta * share, a.M2 + b.M2 + delta * delta * a.Count * share);
    }

    /// <summary>The moments of <paramref name="successes"/> ones among <paramref name="trials"/> 0/1 values.</summary>
    public static Moments OfRate(long successes, long trials) =>
        trials == 0 ? default : new(trials, (double)successes / trials, (double)successes * (trials - successes) / trials);

    /// <summary>From a count, sum and sum of squares (how format 1 aggregates were stored); as imprecise as they are.</summary>
    public static Moments FromSums(long count, double sum, double sumOfSquares) =>
        count == 0 ? new(0, sum, sumOfSquares) : new(count, sum / count, Math.Max(0, sumOfSquares - sum * sum / count));
}
