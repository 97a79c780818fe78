"""Weak, moderate and strong stochastic transitivity, counted as R's ``eba::strans`` does.

Conventions (eba 1.10, ``R/strans.R``, Wickelmaier): for every triple, the six
orderings ``(x, y, z)`` are scanned in the order ``abc, acb, bac, bca, cab, cba``
(``a < b < c`` the item codes); those with ``P(x, y) >= 0.5`` and
``P(y, z) >= 0.5`` satisfy the premise. Each is checked for WST
``P(x, z) >= 0.5``, MST ``P(x, z) >= min`` and SST ``P(x, z) >= max`` of the
two premise proportions, and the triple is judged by the ordering that satisfies
the most of the three (ties: the larger ``P(x, z)``, then the scan order). A
triple is one test for each of the three properties. Deviations are
``0.5 - P(x, z)``, ``min - P(x, z)`` and ``max - P(x, z)`` over the violating
triples; their mean and maximum are 0 when nothing is violated (as eba prints).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._cycles import triangle_pairs

LEVELS = ("weak", "moderate", "strong")
# The orderings of a triple (a, b, c) in eba's scan order, as positions 0, 1, 2.
_PERMUTATIONS = np.array([(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)])


@dataclass(frozen=True)
class Strans:
    """Per-triple verdicts of the chosen ordering, and the WST likelihood-ratio test."""

    order: np.ndarray
    p: np.ndarray
    violated: np.ndarray
    deviation: np.ndarray
    tested: np.ndarray
    g2: float
    df: int
    p_value: float


def stochastic_transitivity(n: int, i: np.ndarray, j: np.ndarray, share_i: np.ndarray,
                            total: np.ndarray, triangles: np.ndarray) -> Strans:
    """Check the three properties on ``triangles`` and Tversky's WST test on all pairs.

    ``share_i`` is ``i``'s choice count (ties count half) out of ``total``.
    """
    tri = np.asarray(triangles)
    e = triangle_pairs(tri, n, i, j)
    p_first = share_i / total
    p_second = (total - share_i) / total
    # prob[t, r, c]: proportion choosing vertex r over vertex c of triangle t.
    prob = np.full((len(tri), 3, 3), np.nan)
    for col, (r, c) in enumerate(((0, 1), (1, 2), (0, 2))):
        prob[:, r, c] = p_first[e[:, col]]
        prob[:, c, r] = p_second[e[:, col]]
    x, y, z = _PERMUTATIONS.T
    p12, p23, p13 = prob[:, x, y], prob[:, y, z], prob[:, x, z]
    premise = (p12 >= 0.5) & (p23 >= 0.5)
    low, high = np.minimum(p12, p23), np.maximum(p12, p23)
    holds = np.stack([p13 >= 0.5, p13 >= low, p13 >= high], axis=-1)
    score = np.where(premise, holds.sum(axis=-1), -1)
    best = score.max(axis=1, keepdims=True) if len(tri) else score
    candidate = score == best
    top = np.where(candidate, p13, -np.inf).max(axis=1, keepdims=True) if len(tri) else p13
    chosen = np.argmax(candidate & (p13 == top), axis=1)
    rows = np.arange(len(tri))
    tested = score[rows, chosen] >= 0
    order = tri[rows[:, None], _PERMUTATIONS[chosen]]
    p = np.stack([p12[rows, chosen], p23[rows, chosen], p13[rows, chosen]], axis=1)
    violated = ~holds[rows, chosen] & tested[:, None]
    bounds = np.stack([np.full(len(tri), 0.5), low[rows, chosen], high[rows, chosen]], axis=1)
    deviation = np.where(violated, bounds - p[:, 2:3], np.nan)
    g2, df, p_value = _wst_test(n, i, j, share_i, total)
    return Strans(order, p, violated, deviation, tested, g2, df, p_value)


def _wst_test(n: int, i: np.ndarray, j: np.ndarray, share_i: np.ndarray, total: np.ndarray
              ) -> tuple[float, int, float]:
    """Tversky's (1969) likelihood-ratio test of WST, as approximated in ``eba::strans``.

    Items are ranked by how many others they beat with a proportion >= 0.5
    (stable, so ties keep the item order); every compared pair whose proportion
    in the direction of that ranking is below 0.5 is set to 0.5, and
    ``G2 = 2 sum [x log(p / .5) + (m - x) log((1 - p) / .5)]`` over those pairs
    is referred to chi-square with one degree of freedom per such pair.
    """
    p_i = share_i / total
    wins = np.bincount(i[p_i >= 0.5], minlength=n) + np.bincount(j[p_i <= 0.5], minlength=n)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-wins, kind="stable")] = np.arange(n)
    # Proportion for the higher-ranked item of each pair, and its count.
    forward = rank[i] < rank[j]
    p = np.where(forward, p_i, 1 - p_i)
    x = np.where(forward, share_i, total - share_i)
    bad = p < 0.5
    if not bad.any():
        return 0.0, 0, 1.0
    pb, xb, mb = p[bad], x[bad], total[bad]
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(xb > 0, xb * np.log(pb / 0.5), 0.0) + np.where(
            mb - xb > 0, (mb - xb) * np.log((1 - pb) / 0.5), 0.0)
    g2 = float(2 * term.sum())
    df = int(bad.sum())
    return g2, df, float(stats.chi2.sf(g2, df))
