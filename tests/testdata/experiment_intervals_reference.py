"""Reference values for ExperimentAnalyzerTests (clipped intervals, arms without variance that differ).

Independent of the C# code: standard library only, from each unit's (events, sum). Run: python3 experiment_intervals_reference.py
"""
import math
from statistics import NormalDist

ALPHA = 0.05


def delta_variance(units):
    """Delta-method variance of sum(S)/sum(N) over units (Deng, Knoblich & Lu 2018), sample (k - 1) moments."""
    k = len(units)
    ns = [n for n, _ in units]
    ss = [s for _, s in units]
    mn, ms = sum(ns) / k, sum(ss) / k
    r = sum(ss) / sum(ns)
    var_s = sum((s - ms) ** 2 for s in ss) / (k - 1)
    var_n = sum((n - mn) ** 2 for n in ns) / (k - 1)
    cov = sum((s - ms) * (n - mn) for n, s in units) / (k - 1)
    return max(0.0, (var_s - 2 * r * cov + r * r * var_n) / (k * mn * mn))


def sequential(d, v, tau, alpha=ALPHA):
    """mSPRT p-value and confidence sequence (Johari, Pekelis & Walsh)."""
    t2 = tau * tau
    log_lambda = 0.5 * math.log(v / (v + t2)) + d * d * t2 / (2 * v * (v + t2))
    half = math.sqrt(2 * v * (v + t2) / t2 * (math.log(1 / alpha) + 0.5 * math.log((v + t2) / v)))
    return math.exp(-max(0.0, log_lambda)), (d - half, d + half)


def clip(interval, low, high):
    return (min(max(interval[0], low), high), min(max(interval[1], low), high))


def conversion(x1, n1, x2, n2, mde):
    p1, p2 = x1 / n1, x2 / n2
    d = p2 - p1
    unpooled = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    pbar = (x1 + x2) / (n1 + n2)
    pooled = pbar * (1 - pbar) * (1 / n1 + 1 / n2)
    v = unpooled if unpooled > 0 else pooled
    tau = mde * abs(p1) if p1 > 0 else mde * math.sqrt(v / (1 / n1 + 1 / n2))
    p, cs = sequential(d, v, tau)
    z = NormalDist().inv_cdf(1 - ALPHA / 2)
    wald = (d - z * math.sqrt(unpooled), d + z * math.sqrt(unpooled))
    rel = p2 / p1 - 1 if p1 > 0 else None
    out = dict(d=d, v=v, tau=tau, p=p, cs=cs, cs_clipped=clip(cs, -1, 1), wald_clipped=clip(wald, -1, 1))
    if rel is not None:
        var_r = (p2 * (1 - p2) / n2) / p1 ** 2 + p2 ** 2 * (p1 * (1 - p1) / n1) / p1 ** 4
        out['relative_ci_clipped'] = clip((rel - z * math.sqrt(var_r), rel + z * math.sqrt(var_r)), -1, math.inf)
    return out


def ratio(control_units, treatment_units, mde):
    k1, k2 = len(control_units), len(treatment_units)
    r1 = sum(s for _, s in control_units) / sum(n for n, _ in control_units)
    r2 = sum(s for _, s in treatment_units) / sum(n for n, _ in treatment_units)
    unpooled = delta_variance(control_units) + delta_variance(treatment_units)
    everyone = control_units + treatment_units
    pooled = delta_variance(everyone) * len(everyone) * (1 / k1 + 1 / k2)
    v = unpooled if unpooled > 0 else pooled
    tau = mde * abs(r1) if r1 != 0 else mde * math.sqrt(v / (1 / k1 + 1 / k2))
    p, cs = sequential(r2 - r1, v, tau)
    return dict(d=r2 - r1, unpooled=unpooled, pooled=pooled, tau=tau, p=p, cs=cs)


print("conversion 0/500 vs 500/500, MDE 0.10:", conversion(0, 500, 500, 500, 0.10))
print("latency 800 x500 vs 900 x500, MDE 0.10:", ratio([(1, 800.0)] * 500, [(1, 900.0)] * 500, 0.10))
print("errors 0/1000 vs 30/1000, one event per unit, MDE 0.10:",
      ratio([(1, 0.0)] * 1000, [(1, 1.0)] * 30 + [(1, 0.0)] * 970, 0.10))
# Several events per unit: 2 units of 3 events at 100 ms each, 3 units of 1 event at 130 ms against 4 units of 2 at 90.
print("latency, several events per unit, MDE 0.10:",
      ratio([(3, 300.0)] * 2 + [(1, 130.0)] * 3, [(2, 180.0)] * 4, 0.10))
print("conversion 25/50 vs 49/50, MDE 0.05:", conversion(25, 50, 49, 50, 0.05))
print("conversion 1/60 vs 59/60, MDE 0.10:", conversion(1, 60, 59, 60, 0.10))


def restricted_rates(x1, n1, x2, n2, bound):
    """Farrington & Manning (1990): the control's and treatment's rates maximising the binomial likelihood under
    T = bound * C, found by golden-section search over C (not the closed-form root the C# code takes)."""
    def loglik(c):
        t = bound * c
        return sum(x * math.log(p) + (n - x) * math.log(1 - p) for x, n, p in ((x1, n1, c), (x2, n2, t)) if 0 < p < 1)
    lo, hi = 1e-15, min(1.0, 1 / bound) - 1e-15
    g = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if loglik(a) < loglik(b):
            lo = a
        else:
            hi = b
    c = (lo + hi) / 2
    return c, bound * c


def fm_variance(x1, n1, x2, n2, bound):
    c, t = restricted_rates(x1, n1, x2, n2, bound)
    return t * (1 - t) / n2 + bound * bound * c * (1 - c) / n1


def conversion_guardrail(x1, n1, x2, n2, threshold, mde):
    """A guardrail on conversion (higher is better): the excess (1 - t)C - T with Farrington & Manning's variance, at the
    rates restricted to the guardrail's null T = (1 - t)C. As the relative change in the harmful direction, 1 - T/C,
    which cannot be above +100%."""
    c, t = x1 / n1, x2 / n2
    bound = 1 - threshold
    excess = bound * c - t
    v = fm_variance(x1, n1, x2, n2, bound)
    _, (low, high) = sequential(excess, v, mde * c)
    relative = (low / c + threshold, high / c + threshold)
    return dict(restricted=restricted_rates(x1, n1, x2, n2, bound), v=v, relative_change=1 - t / c, relative_ci=relative,
                clipped=clip(relative, -math.inf, 1))


print("FM variance, 0.9, 50/60 vs 1/60:", fm_variance(50, 60, 1, 60, 0.9))
print("FM variance, 0.9, 1000/10000 vs 980/10000:", fm_variance(1000, 10000, 980, 10000, 0.9))
print("FM variance, 0.8, 30/200 vs 12/150:", fm_variance(30, 200, 12, 150, 0.8))
print("conversion guardrail 0.10, 50/60 vs 1/60, MDE 0.10:", conversion_guardrail(50, 60, 1, 60, 0.10, 0.10))


def ratio_guardrail(control_units, treatment_units, threshold, mde, lower_is_better=True):
    """A guardrail on a ratio metric: the excess harm * (T - bC), b = 1 +- threshold, with variance
    V(T) + b^2 V(C), or when that is 0 the pooled one under "each treatment unit is b times its control value": the control's units and
    the treatment's with their sums divided by b pooled, b^2 s^2 (1/k1 + 1/k2). As the relative harmful change."""
    harm = 1 if lower_is_better else -1
    b = 1 + harm * threshold
    k1, k2 = len(control_units), len(treatment_units)
    c = sum(s for _, s in control_units) / sum(n for n, _ in control_units)
    t = sum(s for _, s in treatment_units) / sum(n for n, _ in treatment_units)
    unpooled = delta_variance(treatment_units) + b * b * delta_variance(control_units)
    everyone = control_units + [(n, s / b) for n, s in treatment_units]
    pooled = b * b * delta_variance(everyone) * len(everyone) * (1 / k1 + 1 / k2)
    v = unpooled if unpooled > 0 else pooled
    _, (low, high) = sequential(harm * (t - b * c), v, mde * abs(c))
    return dict(unpooled=unpooled, pooled=pooled, relative_ci=(low / c + threshold, high / c + threshold))


print("latency guardrail 0.10, 800 x500 vs 1000 x500, MDE 0.10:",
      ratio_guardrail([(1, 800.0)] * 500, [(1, 1000.0)] * 500, 0.10, 0.10))
# Unequal arms, some spread: the pooled floor is no smaller than the arms' own here.
print("latency guardrail 0.10, 800/820 x100 vs 1000 x60 and 1010 x60, MDE 0.10:",
      ratio_guardrail([(1, 800.0)] * 50 + [(1, 820.0)] * 50, [(1, 1000.0)] * 60 + [(1, 1010.0)] * 60, 0.10, 0.10))


def fixed_no_variance_within(control_units, treatment_units, lower_is_better):
    """Fixed-horizon figures when each arm's units agree but the arms differ: on the pooled V0 (normal approximation),
    and the relative difference by the delta method with the pooled unit variance s^2 = V0 / (1/k1 + 1/k2) in both arms."""
    k1, k2 = len(control_units), len(treatment_units)
    c = sum(s for _, s in control_units) / sum(n for n, _ in control_units)
    t = sum(s for _, s in treatment_units) / sum(n for n, _ in treatment_units)
    everyone = control_units + treatment_units
    v0 = delta_variance(everyone) * len(everyone) * (1 / k1 + 1 / k2)
    d = t - c
    z = NormalDist().inv_cdf(1 - ALPHA / 2)
    # erfc rather than NormalDist.cdf, which loses the far tail to 1 + erf.
    chance = 0.5 * math.erfc(-(-d if lower_is_better else d) / math.sqrt(2 * v0))
    p = math.erfc(abs(d) / math.sqrt(2 * v0))
    s2 = v0 / (1 / k1 + 1 / k2)
    rel = t / c - 1
    var_r = (s2 / k2) / c ** 2 + t ** 2 * (s2 / k1) / c ** 4
    return dict(v0=v0, ci=(d - z * math.sqrt(v0), d + z * math.sqrt(v0)), p=p, chance=chance, relative=rel,
                relative_ci=clip((rel - z * math.sqrt(var_r), rel + z * math.sqrt(var_r)), -1, math.inf))


def conversion_no_variance_within(x1, n1, x2, n2):
    """The same for conversion, whose V0 is the z-test's p(1 - p)(1/n1 + 1/n2)."""
    p1, p2, pbar = x1 / n1, x2 / n2, (x1 + x2) / (n1 + n2)
    v0 = pbar * (1 - pbar) * (1 / n1 + 1 / n2)
    d = p2 - p1
    z = NormalDist().inv_cdf(1 - ALPHA / 2)
    s2 = v0 / (1 / n1 + 1 / n2)
    out = dict(v0=v0, ci_clipped=clip((d - z * math.sqrt(v0), d + z * math.sqrt(v0)), -1, 1),
               chance=0.5 * math.erfc(-d / math.sqrt(2 * v0)))
    if p1 > 0:
        rel = p2 / p1 - 1
        var_r = (s2 / n2) / p1 ** 2 + p2 ** 2 * (s2 / n1) / p1 ** 4
        out.update(relative=rel, relative_ci=clip((rel - z * math.sqrt(var_r), rel + z * math.sqrt(var_r)), -1, math.inf))
    return out


print("fixed-horizon, latency 800 x500 vs 900 x500:",
      fixed_no_variance_within([(1, 800.0)] * 500, [(1, 900.0)] * 500, True))
print("fixed-horizon, latency 800 x3 vs 900 x2:",
      fixed_no_variance_within([(1, 800.0)] * 3, [(1, 900.0)] * 2, True))
print("fixed-horizon, conversion 500/500 vs 0/500:", conversion_no_variance_within(500, 500, 0, 500))
print("error-rate guardrail 0.10, 200/10000 vs 600/10000 errors, one event per unit, MDE 0.10:",
      ratio_guardrail([(1, 1.0)] * 200 + [(1, 0.0)] * 9800, [(1, 1.0)] * 600 + [(1, 0.0)] * 9400, 0.10, 0.10))
# One arm without variance of its own (a variant with no conversions, or no errors, in 100 units): the relative
# difference's interval on the pooled unit variance in both arms, as when both arms agree (its own would be a point).
print("relative, conversion 60/100 vs 0/100:", conversion_no_variance_within(60, 100, 0, 100))
print("relative, errors 10/100 vs 0/100, one event per unit:",
      fixed_no_variance_within([(1, 1.0)] * 10 + [(1, 0.0)] * 90, [(1, 0.0)] * 100, True))
