# Reference values for StatisticsTests: Newcombe (1998) method 10 intervals, plain Python (no SciPy), and the exact
# coverage of Newcombe's and Wald's intervals over every outcome of two arms. Run: python3 tests/testdata/small_sample_reference.py
from statistics import NormalDist
from math import sqrt
z = NormalDist().inv_cdf(0.975)
def wilson(x, n):
    c = (x + z*z/2)/(n + z*z); h = z*sqrt(x*(n-x)/n + z*z/4)/(n + z*z); return c-h, c+h
# newcombe: arm 1 the treatment, arm 2 the control; beta_chance and ratio_interval: control first.
def newcombe(x1, n1, x2, n2):
    p1, p2 = x1/n1, x2/n2; l1, u1 = wilson(x1, n1); l2, u2 = wilson(x2, n2)
    return p1-p2-sqrt((p1-l1)**2+(u2-p2)**2), p1-p2+sqrt((u1-p1)**2+(p2-l2)**2)
for a in [(56,70,48,80),(9,10,3,10),(6,7,2,7),(5,56,0,29),(0,10,0,20),(10,10,0,20),(3,3,0,2),(1,1,0,1)]:
    print(a, ["%.4f" % v for v in newcombe(*a)], newcombe(*a))
from math import comb
def pmf(n,p,k): return comb(n,k)*p**k*(1-p)**(n-k)
def wald(x1,n1,x2,n2):
    p1,p2=x1/n1,x2/n2; v=p1*(1-p1)/n1+p2*(1-p2)/n2
    if v==0:
        pb=(x1+x2)/(n1+n2); v=pb*(1-pb)*(1/n1+1/n2)
    h=z*sqrt(v); return max(-1,p1-p2-h), min(1,p1-p2+h)
print()
for n in [5,10,20,40]:
  for pc in [0.1,0.5,0.9]:
    for pt in [0.1,0.5,0.9]:
      cov={}
      for name,f in [("N",newcombe),("W",wald)]:
        c=0
        for xc in range(n+1):
          for xt in range(n+1):
            lo,hi=f(xt,n,xc,n)
            if lo-1e-12<=pt-pc<=hi+1e-12: c+=pmf(n,pc,xc)*pmf(n,pt,xt)
        cov[name]=c
      print(n,pc,pt,"%.4f %.4f"%(cov["N"],cov["W"]))

# P(p_T > p_C), p ~ Beta(1 + x, 1 + n - x), by Simpson's rule over the control's density times the treatment's
# upper tail (for integer a, b: P(Beta(a, b) > t) = P(Binomial(a + b - 1, t) <= a - 1)).
from math import comb, lgamma, exp, log
def dens(a, b, t):
    if t <= 0 or t >= 1: return (1.0 if (t <= 0 and a == 1) or (t >= 1 and b == 1) else 0.0) * exp(lgamma(a+b)-lgamma(a)-lgamma(b))
    return exp(lgamma(a+b)-lgamma(a)-lgamma(b)+(a-1)*log(t)+(b-1)*log(1-t))
def upper(a, b, t):
    m = a + b - 1
    return sum(comb(m, k) * t**k * (1-t)**(m-k) for k in range(a))
def beta_chance(xc, nc, xt, nt, steps=20000):
    ac, bc, at, bt = 1+xc, 1+nc-xc, 1+xt, 1+nt-xt
    h = 1/steps; s = 0
    for i in range(steps+1):
        t = i*h; w = 1 if i in (0, steps) else (4 if i % 2 else 2)
        s += w * dens(ac, bc, t) * upper(at, bt, t)
    return s*h/3
print()
for c in [(0,2,3,3),(0,1,1,1),(2,10,7,10),(5,40,15,45),(7,10,2,10),(1,12,6,15)]:
    print(c, repr(beta_chance(*c)))

# Score interval for b = p_T/p_C (Koopman 1984; Farrington & Manning 1990's variance): the b with
# (p̂_T - b p̂_C)^2 <= z^2 (p̃_T(1-p̃_T)/n_T + b^2 p̃_C(1-p̃_C)/n_C), p̃ the MLE under p_T = b p_C found here by
# golden-section search of the log-likelihood (not the quadratic's root), the ends by bisection in log b.
from math import log, sqrt, exp
def mle(xc, nc, xt, nt, b):
    def ll(p):
        pt = b*p; s = 0
        for x, n, q in ((xc, nc, p), (xt, nt, pt)):
            if x: s += x*log(q)
            if n-x: s += (n-x)*log(1-q)
        return s
    lo, hi = 1e-15, min(1, 1/b) - 1e-15; g = (sqrt(5)-1)/2
    for _ in range(300):
        a, c = hi - g*(hi-lo), lo + g*(hi-lo)
        if ll(a) < ll(c): lo = a
        else: hi = c
    return (lo+hi)/2
def accepts(xc, nc, xt, nt, b):
    pc = mle(xc, nc, xt, nt, b); pt = b*pc
    return (xt/nt - b*xc/nc)**2 <= z*z*(pt*(1-pt)/nt + b*b*pc*(1-pc)/nc)
def ratio_bound(xc, nc, xt, nt, inside, outside):
    for _ in range(200):
        m = exp((log(inside)+log(outside))/2)
        if accepts(xc, nc, xt, nt, m): inside = m
        else: outside = m
    return inside
def ratio_interval(xc, nc, xt, nt):
    r = (xt/nt)/(xc/nc)
    lo = 0.0 if xt == 0 else ratio_bound(xc, nc, xt, nt, r, r/1e6)
    out = max(r, 1e-6)
    while accepts(xc, nc, xt, nt, out): out *= 2
    hi = ratio_bound(xc, nc, xt, nt, max(r, 1e-300), out) if r > 0 else ratio_bound(xc, nc, xt, nt, 1e-12, out)
    return lo-1, hi-1
for c in [(2,10,7,10),(1,12,6,15),(5,40,15,45),(7,10,2,10),(3,10,0,10),(2,7,7,7),(1,1,1,1),(1,2,0,3)]:
    print(c, [repr(v) for v in ratio_interval(*c)])

# Every unit of both arms the same outcome (control first): 0/10 against 0/20, 0/5000 against 0/5000, 10/10 against
# 20/20 (and 0/1 against 0/1, 1/1 against 1/1). Fisher's p in exact rationals (one table is possible, so 1), Newcombe's interval, the Beta posterior's chance by
# Simpson's rule on [0, 50/n] for the peaked no-conversion posteriors (by hand: b_C/(b_C + b_T), 11/32 and 1/2; 10/10
# against 20/20 is 1 − 11/32 = 21/32), and the ratio's score interval (by hand at 100%: 1/(1 + z²/n_T) − 1 to z²/n_C).
from fractions import Fraction
def fisher(xc, nc, xt, nt):
    k, n = xc + xt, nc + nt
    prob = lambda x: Fraction(comb(nt, x) * comb(nc, k - x), comb(n, k))
    seen = prob(xt)
    return sum(prob(x) for x in range(max(0, k - nc), min(k, nt) + 1) if prob(x) <= seen)
def beta_chance_on(xc, nc, xt, nt, hi, steps=20000):
    ac, bc, at, bt = 1+xc, 1+nc-xc, 1+xt, 1+nt-xt
    h = hi/steps; s = 0
    for i in range(steps+1):
        t = i*h; w = 1 if i in (0, steps) else (4 if i % 2 else 2)
        s += w * dens(ac, bc, t) * upper(at, bt, t)
    return s*h/3
print()
for (xc, nc, xt, nt) in [(0,10,0,20),(0,5000,0,5000),(10,10,20,20),(0,1,0,1),(1,1,1,1)]:
    chance = beta_chance(xc, nc, xt, nt) if xc else beta_chance_on(xc, nc, xt, nt, min(1, 50/min(nc, nt)))
    print((xc, nc, xt, nt), "fisher", fisher(xc, nc, xt, nt), "newcombe", ["%.4f" % v for v in newcombe(xt, nt, xc, nc)],
          newcombe(xt, nt, xc, nc), "chance", repr(chance),
          "ratio", [repr(v) for v in ratio_interval(xc, nc, xt, nt)] if xc else "none (control rate 0)")

# Fisher's p beyond int's 2^31 units (control first): an arm of 3 billion units against one under 50. In exact rationals
# over the small arm's count x: P(x) = C(K, x)·C(N − K, n − x)/C(N, n), n the small arm's units, K all conversions (the
# form above would take C(N, K) with K in the billions).
def fisher_small_arm(xs, ns, xl, nl):
    k, n = xs + xl, ns + nl
    prob = lambda x: Fraction(comb(k, x) * comb(n - k, ns - x), comb(n, ns))
    seen = prob(xs)
    return sum(prob(x) for x in range(max(0, k - nl), min(k, ns) + 1) if prob(x) <= seen)
print()
for (xc, nc, xt, nt) in [(3,10,5,3000000000),(7,20,1500000000,3000000000),(2400000000,3000000000,9,12)]:
    small_first = nc <= nt
    p = fisher_small_arm(xc, nc, xt, nt) if small_first else fisher_small_arm(xt, nt, xc, nc)
    print((xc, nc, xt, nt), "fisher", repr(float(p)))
