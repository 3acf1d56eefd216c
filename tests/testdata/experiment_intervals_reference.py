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
    v = max(unpooled, pooled)
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
    v = max(unpooled, pooled)
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


def conversion_guardrail(x1, n1, x2, n2, threshold, mde):
    """A guardrail on conversion (higher is better): the excess (1 - t)C - T with variance V(T) + (1 - t)^2 V(C),
    as the relative change in the harmful direction, 1 - T/C, which cannot be above +100%."""
    c, t = x1 / n1, x2 / n2
    bound = 1 - threshold
    excess = bound * c - t
    v = t * (1 - t) / n2 + bound * bound * c * (1 - c) / n1
    _, (low, high) = sequential(excess, v, mde * c)
    relative = (low / c + threshold, high / c + threshold)
    return dict(relative_change=1 - t / c, relative_ci=relative, clipped=clip(relative, -math.inf, 1))


print("conversion guardrail 0.10, 50/60 vs 1/60, MDE 0.10:", conversion_guardrail(50, 60, 1, 60, 0.10, 0.10))
