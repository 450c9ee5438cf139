#!/usr/bin/env python3
"""The Mann-Whitney U test and the verdicts scripts/compare gives.

Standard library only (no scipy): an exact U distribution when neither
sample has more than EXACT_MAX values and there are no ties, else the
normal approximation with tie and continuity corrections (what scipy's
mannwhitneyu does with method="auto").

A verdict compares a baseline sample a with a contender sample b (times,
lower is better):

  slower / faster    the two-sided U test rejects "same distribution"
                     at level alpha; the size is the change of medians;
  no change          equivalence within +-margin is shown: b is
                     significantly above a*(1-margin) AND significantly
                     below a*(1+margin) (two one-sided U tests, TOST),
                     each at level alpha;
  inconclusive       neither, or fewer than MIN_REPS values on a side
                     (then the test could not have rejected anything
                     that matters: with 3 + 3 values the smallest
                     two-sided p is 0.1).

Equivalence is checked first: a change that is significant but shown to
lie within the margin is "no change", as criterion's "within noise
threshold".
"""

import math
import statistics
from functools import lru_cache

MIN_REPS = 9
EXACT_MAX = 30


def u_statistic(x, y):
    """U of x against y: pairs with x > y, ties counted one half."""
    u = 0.0
    for xi in x:
        for yj in y:
            if xi > yj:
                u += 1.0
            elif xi == yj:
                u += 0.5
    return u


@lru_cache(maxsize=None)
def _u_counts(m, n):
    """Number of orderings of m x-values and n y-values (no ties) giving
    each U = 0..m*n, as a tuple."""
    # f[i][j][u]: built up one value at a time (the standard recursion
    # f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u)), row by row over i.
    prev = [None] * (n + 1)  # prev[j] = counts for (i-1, j)
    for i in range(m + 1):
        cur = [None] * (n + 1)
        for j in range(n + 1):
            if i == 0 or j == 0:
                cur[j] = [1]
                continue
            a = prev[j]      # last value is an x above all j y's: u + j
            b = cur[j - 1]   # last value is a y: u unchanged
            size = i * j + 1
            c = [0] * size
            for u, v in enumerate(b):
                c[u] += v
            for u, v in enumerate(a):
                c[u + j] += v
            cur[j] = c
        prev = cur
    return tuple(prev[n])


def _has_ties(x, y):
    values = list(x) + list(y)
    return len(set(values)) != len(values)


def _cdf_exact(u, m, n):
    """P(U <= u) under the null, exact (no ties)."""
    counts = _u_counts(m, n)
    total = sum(counts)
    k = math.floor(u + 1e-9)
    return sum(counts[: k + 1]) / total if k >= 0 else 0.0


def _normal_sf(z):
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _normal_parts(x, y):
    m, n = len(x), len(y)
    values = sorted(list(x) + list(y))
    tie_term = 0.0
    i = 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        t = j - i
        tie_term += t ** 3 - t
        i = j
    big_n = m + n
    var = m * n / 12.0 * ((big_n + 1) - tie_term / (big_n * (big_n - 1)))
    return m * n / 2.0, math.sqrt(var) if var > 0 else 0.0


def p_greater(x, y):
    """One-sided p-value for "x tends to be larger than y"."""
    m, n = len(x), len(y)
    u = u_statistic(x, y)
    if m <= EXACT_MAX and n <= EXACT_MAX and not _has_ties(x, y):
        # P(U >= u) = P(U' <= m*n - u) by symmetry.
        return _cdf_exact(m * n - u, m, n)
    mu, sd = _normal_parts(x, y)
    if sd == 0:
        return 1.0
    return _normal_sf((u - mu - 0.5) / sd)


def p_less(x, y):
    """One-sided p-value for "x tends to be smaller than y"."""
    return p_greater(y, x)


def p_two_sided(x, y):
    return min(1.0, 2.0 * min(p_greater(x, y), p_less(x, y)))


def verdict(a, b, alpha, margin):
    """(verdict, change, p_two_sided, p_equivalence) for baseline a and
    contender b (lists of times); change = median(b) / median(a) - 1, and
    the p-values are None when there are too few values to test."""
    change = statistics.median(b) / statistics.median(a) - 1.0
    n = min(len(a), len(b))
    if n < MIN_REPS:
        return (f"inconclusive ({n} repetitions; {MIN_REPS} needed)", change, None, None)
    p2 = p_two_sided(b, a)
    lo = [v * (1.0 - margin) for v in a]
    hi = [v * (1.0 + margin) for v in a]
    p_eq = max(p_greater(b, lo), p_less(b, hi))
    pct = f"{margin * 100:g}"
    if p_eq < alpha:
        return (f"no change (within ±{pct}% with p < {alpha:g})", change, p2, p_eq)
    if p2 < alpha:
        return (("slower" if change > 0 else "faster") + f" by {abs(change) * 100:.1f}%",
                change, p2, p_eq)
    return (f"inconclusive (no significant change, not shown within ±{pct}%)", change, p2, p_eq)
