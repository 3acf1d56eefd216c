namespace PromptVault.Core.Metrics;

/// <summary>
/// Count, sum and sum of squares of one measure: enough for its mean and variance, mergeable by addition.
/// A rate is the moments of a 0/1 measure (sum = sum of squares = successes).
/// </summary>
public readonly record struct Moments(long Count, double Sum, double SumOfSquares)
{
    public double Mean => Count == 0 ? double.NaN : Sum / Count;

    /// <summary>The sample variance (n − 1 in the denominator); NaN below two values.</summary>
    public double SampleVariance => Count < 2 ? double.NaN : Math.Max(0, (SumOfSquares - Sum * Sum / Count) / (Count - 1));

    public Moments Add(double value) => new(Count + 1, Sum + value, SumOfSquares + value * value);

    public static Moments operator +(Moments a, Moments b) => new(a.Count + b.Count, a.Sum + b.Sum, a.SumOfSquares + b.SumOfSquares);

    /// <summary>The moments of <paramref name="successes"/> ones among <paramref name="trials"/> 0/1 values.</summary>
    public static Moments OfRate(long successes, long trials) => new(trials, successes, successes);
}
