namespace PromptVault.Core.Metrics;

/// <summary>
/// Count, sum and M2 (the sum of squared deviations from the mean) of one measure: enough for its mean and variance.
/// Updated by Youngs &amp; Cramer's method and merged by the formula of Chan, Golub &amp; LeVeque ("Algorithms for Computing
/// the Sample Variance", 1983), so that, unlike a sum of squares, M2 keeps the variance of values like 100,000 ± 0.005.
/// A rate is the moments of a 0/1 measure.
/// </summary>
public readonly record struct Moments(long Count, double Sum, double M2)
{
    /// <summary>The mean; 0 when empty.</summary>
    public double Mean => Count == 0 ? 0 : Sum / Count;

    /// <summary>Σx², derived (M2 + Sum²/n); for display and comparisons only, never for a variance.</summary>
    public double SumOfSquares => Count == 0 ? M2 : M2 + Sum * Sum / Count;

    /// <summary>The sample variance M2 / (n − 1); NaN below two values.</summary>
    public double SampleVariance => Count < 2 ? double.NaN : Math.Max(0, M2 / (Count - 1));

    /// <summary>
    /// Youngs &amp; Cramer (1971): M2 += (n·x − T)² / (n(n − 1)) with T the new sum. Unlike Welford's update of the mean,
    /// no division sits on the running values' dependency chain, so adding costs a few nanoseconds.
    /// </summary>
    public Moments Add(double value)
    {
        var count = Count + 1;
        var sum = Sum + value;
        if (Count == 0)
            return new(count, sum, M2);
        var deviation = value * count - sum;
        return new(count, sum, M2 + deviation * deviation / ((double)count * Count));
    }

    /// <summary>Chan, Golub &amp; LeVeque: M2 = M2a + M2b + δ²·na·nb/n with δ = mean_b − mean_a.</summary>
    public static Moments operator +(Moments a, Moments b)
    {
        if (b.Count == 0)
            return a;
        if (a.Count == 0)
            return b;
        var count = a.Count + b.Count;
        var delta = b.Mean - a.Mean;
        return new(count, a.Sum + b.Sum, a.M2 + b.M2 + delta * delta * ((double)a.Count * b.Count / count));
    }

    /// <summary>The moments of <paramref name="successes"/> ones among <paramref name="trials"/> 0/1 values.</summary>
    public static Moments OfRate(long successes, long trials) =>
        trials == 0 ? default : new(trials, successes, (double)successes * (trials - successes) / trials);

    /// <summary>From a count, sum and sum of squares (how format 1 aggregates were stored); as imprecise as they are.</summary>
    public static Moments FromSums(long count, double sum, double sumOfSquares) =>
        count == 0 ? new(0, sum, sumOfSquares) : new(count, sum, Math.Max(0, sumOfSquares - sum * sum / count));
}
