"""Tournaments on integer item codes: circular triads, Kendall's test, triangles, cycles.

Everything here works on pair arrays ``i < j`` (item codes) with a majority
``verdict`` per pair (+1: ``i`` beat ``j``, -1: ``j`` beat ``i``, 0: no verdict)
and returns numpy arrays; labels are attached by the public module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import product
from math import comb

import numpy as np
from scipy import sparse, stats
from scipy.sparse import csgraph

# Exact null distribution of Kendall's T up to this many items. The recursion over score
# multisets below has 2^(n-1) states: about 1 s for 12 items (then cached), 3 s for 13.
KENDALL_EXACT_MAX = 12
# Dense 0/1 adjacency matrices (float32 products, exact for integer counts < 2^24) up to this
# many items: 3000^2 x 4 bytes = 36 MB per matrix.
DENSE_MAX = 3000
# Wedges (candidate triangles) generated per chunk of the sparse triangle enumeration.
_WEDGE_CHUNK = 4_000_000
# Rejection sampling of random triples is used while at least this share of all triples
# are triangles of the comparison graph (else enumeration with thinning is cheaper).
_REJECTION_MIN_DENSITY = 0.01


# ------------------------------------------------------------------ Kendall
@cache
def _score_sum_distribution(state: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """Distribution of ``sum C(s_v, 2)`` over the completions of a partial tournament.

    ``state`` holds the wins each remaining vertex already has (sorted). The first
    remaining vertex plays every other; which ones it beats is summed over by
    groups of equal partial score (the completions depend only on the multiset).
    """
    p, rest = state[0], state[1:]
    if not rest:
        return ((comb(p, 2), 1),)
    values: list[int] = []
    mult: list[int] = []
    for v in rest:
        if values and values[-1] == v:
            mult[-1] += 1
        else:
            values.append(v)
            mult.append(1)
    out: dict[int, int] = {}
    for beaten in product(*(range(c + 1) for c in mult)):
        ways = 1
        new: list[int] = []
        for v, c, w in zip(values, mult, beaten):
            ways *= comb(c, w)
            new += [v] * w + [v + 1] * (c - w)
        own = comb(p + sum(beaten), 2)
        for value, count in _score_sum_distribution(tuple(sorted(new))):
            out[value + own] = out.get(value + own, 0) + ways * count
    return tuple(sorted(out.items()))


def circular_triad_distribution(n: int) -> dict[int, int]:
    """Number of labelled tournaments on ``n`` items with ``T`` circular triads, by ``T``.

    Uses ``T = C(n, 3) - sum_v C(s_v, 2)`` (Kendall & Babington Smith 1940), ``s_v``
    the score of item ``v``, and counts score vectors by a recursion that adds
    one item's results at a time. The counts sum to ``2^C(n, 2)``.
    """
    if n < 3:
        return {0: 2 ** comb(n, 2)}
    total = comb(n, 3)
    return {total - s: c for s, c in _score_sum_distribution((0,) * n)}


def max_circular_triads(n: int) -> int:
    """Kendall's maximum number of circular triads among ``n`` items."""
    return n * (n * n - 1) // 24 if n % 2 else n * (n * n - 4) // 24


@dataclass(frozen=True)
class KendallTest:
    """Kendall & Babington Smith's test for one complete tournament."""

    max_triads: float
    expected: float
    consistence: float
    statistic: float
    df: float
    p_value: float
    method: str


def kendall_test(t: int, n: int) -> KendallTest:
    """Lower-tail test of ``T`` (fewer circular triads than random choices give).

    Exact for ``n <= KENDALL_EXACT_MAX``; beyond, Kendall's chi-square
    approximation ``8/(n-4) (E - T - 1/2) + nu`` on ``nu = n(n-1)(n-2)/(n-4)^2``
    degrees of freedom, upper tail (the 1/2 is the continuity correction for
    ``P(T <= t)``).
    """
    t_max = max_circular_triads(n)
    expected = comb(n, 3) / 4
    consistence = 1 - t / t_max if t_max > 0 else np.nan
    if n <= KENDALL_EXACT_MAX:
        dist = circular_triad_distribution(n)
        below = sum(c for k, c in dist.items() if k <= t)
        return KendallTest(t_max, expected, consistence, np.nan, np.nan,
                           below / 2 ** comb(n, 2), "exact")
    df = n * (n - 1) * (n - 2) / (n - 4) ** 2
    chi2 = 8 / (n - 4) * (expected - t - 0.5) + df
    return KendallTest(t_max, expected, consistence, chi2, df,
                       float(stats.chi2.sf(chi2, df)), "chi2")


# --------------------------------------------------------------- triangles
def _dense(n: int, i: np.ndarray, j: np.ndarray, values: np.ndarray | None = None,
           symmetric: bool = True) -> np.ndarray:
    out = np.zeros((n, n), dtype=np.float32)
    v = 1.0 if values is None else values
    out[i, j] = v
    if symmetric:
        out[j, i] = v
    return out


def count_triangles(n: int, i: np.ndarray, j: np.ndarray, verdict: np.ndarray | None
                    ) -> tuple[int, int, int]:
    """Triangles of the pair graph, triangles whose 3 pairs have verdicts, 3-cycles.

    Dense matrix products when ``n <= DENSE_MAX`` (``trace(A^3)/3`` directed
    3-cycles), else a sparse enumeration. Without ``verdict`` only the first
    count is computed (the others are 0).
    """
    if n <= DENSE_MAX:
        u = _dense(n, i, j)
        tri = round(((u @ u) * u).sum(dtype=np.float64) / 6)
        if verdict is None:
            return tri, 0, 0
        decided = verdict != 0
        d = _dense(n, i[decided], j[decided])
        src = np.where(verdict[decided] > 0, i[decided], j[decided])
        dst = np.where(verdict[decided] > 0, j[decided], i[decided])
        a = _dense(n, src, dst, symmetric=False)
        dec = ((d @ d) * d).sum(dtype=np.float64) / 6
        cyc = ((a @ a) * a.T).sum(dtype=np.float64) / 3
        return tri, round(dec), round(cyc)
    tri = dec = cyc = 0
    for t in iter_triangles(n, i, j):
        tri += len(t)
        if verdict is not None:
            v = verdict[triangle_pairs(t, n, i, j)]
            dec += int((v != 0).all(axis=1).sum())
            cyc += int(is_cyclic(v).sum())
    return tri, dec, cyc


def pair_index(n: int, i: np.ndarray, j: np.ndarray, a: np.ndarray, b: np.ndarray
               ) -> np.ndarray:
    """Index into the sorted pair arrays ``(i, j)`` of the pairs ``(a, b)``, ``a < b``."""
    keys = i.astype(np.int64) * n + j
    return np.searchsorted(keys, a.astype(np.int64) * n + b)


def triangle_pairs(t: np.ndarray, n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Pair indices ``(xy, yz, xz)`` of triangles ``t`` (rows ``x < y < z``)."""
    return np.stack([pair_index(n, i, j, t[:, 0], t[:, 1]),
                     pair_index(n, i, j, t[:, 1], t[:, 2]),
                     pair_index(n, i, j, t[:, 0], t[:, 2])], axis=1)


def is_cyclic(v: np.ndarray) -> np.ndarray:
    """Whether verdicts ``(xy, yz, xz)`` form a cycle: x>y>z>x or the reverse."""
    return (v[..., 0] != 0) & (v[..., 0] == v[..., 1]) & (v[..., 2] == -v[..., 0])


def iter_triangles(n: int, i: np.ndarray, j: np.ndarray) -> Iterator[np.ndarray]:
    """Yield every triangle of the pair graph once, as rows ``x < y < z``, in chunks.

    Edges are oriented from lower to higher (degree, code) rank, so each triangle
    is found once from its lowest-ranked vertex and the number of candidate
    wedges is O(m^1.5) (Chiba & Nishizeki 1985).
    """
    if i.size == 0:
        return
    deg = np.bincount(i, minlength=n) + np.bincount(j, minlength=n)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), deg))] = np.arange(n)
    lo = np.where(rank[i] < rank[j], i, j)
    hi = np.where(rank[i] < rank[j], j, i)
    order = np.lexsort((rank[hi], lo))
    src, dst = lo[order], hi[order]
    indptr = np.searchsorted(src, np.arange(n + 1))
    fkeys = np.sort(src.astype(np.int64) * n + dst)
    pos = np.arange(src.size)
    n_cand = indptr[src + 1] - pos - 1
    ends = np.cumsum(n_cand)
    start = 0
    while start < src.size:
        stop = int(np.searchsorted(ends, (ends[start - 1] if start else 0) + _WEDGE_CHUNK,
                                   side="right"))
        stop = max(stop, start + 1)
        counts = n_cand[start:stop]
        total = int(counts.sum())
        if total:
            e = np.repeat(np.arange(start, stop), counts)
            offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
            w = dst[pos[e] + 1 + offset]
            u, v = src[e], dst[e]
            key = v.astype(np.int64) * n + w
            hit = np.searchsorted(fkeys, key)
            hit = (hit < fkeys.size) & (fkeys[np.minimum(hit, fkeys.size - 1)] == key)
            if hit.any():
                yield np.sort(np.stack([u[hit], v[hit], w[hit]], axis=1), axis=1)
        start = stop


@dataclass(frozen=True)
class Triangles:
    """The triangles (fully observed triples) analysed, and whether they are a sample."""

    triangles: np.ndarray
    total: int
    sampled: bool


def collect_triangles(n: int, i: np.ndarray, j: np.ndarray, total: int, limit: int,
                      rng: np.random.Generator) -> Triangles:
    """All triangles, or a uniform random sample of about ``limit`` of them.

    The sample is drawn by rejection (random triples kept when all three pairs
    were compared) while triangles are dense among triples, else by Bernoulli
    thinning of the full enumeration. Sampled triangles are distinct.
    """
    if total <= limit:
        chunks = list(iter_triangles(n, i, j))
        tri = np.concatenate(chunks) if chunks else np.zeros((0, 3), dtype=np.intp)
        return Triangles(_sorted_rows(tri), total, False)
    items = np.unique(np.concatenate([i, j]))
    density = total / comb(items.size, 3)
    if items.size <= DENSE_MAX and density >= _REJECTION_MIN_DENSITY:
        local = np.full(n, -1)
        local[items] = np.arange(items.size)
        u = np.zeros((items.size, items.size), dtype=bool)
        u[local[i], local[j]] = u[local[j], local[i]] = True
        m = np.int64(items.size)
        keys = np.zeros(0, dtype=np.int64)
        batch = int(min(4 * limit / density, 10 * limit)) + 16
        while keys.size < limit:
            t = np.sort(rng.integers(items.size, size=(batch, 3)), axis=1)
            t = t[(t[:, 0] < t[:, 1]) & (t[:, 1] < t[:, 2])]
            t = t[u[t[:, 0], t[:, 1]] & u[t[:, 1], t[:, 2]] & u[t[:, 0], t[:, 2]]]
            keys = np.unique(np.concatenate([keys, (t[:, 0] * m + t[:, 1]) * m + t[:, 2]]))
        keys = keys[rng.permutation(keys.size)[:limit]]
        tri = np.stack([keys // (m * m), keys // m % m, keys % m], axis=1)
        return Triangles(_sorted_rows(items[tri]), total, True)
    keep = limit / total
    chunks = [t[rng.random(len(t)) < keep] for t in iter_triangles(n, i, j)]
    return Triangles(_sorted_rows(np.concatenate(chunks)), total, True)


def _sorted_rows(t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=np.intp).reshape(-1, 3)
    return t[np.lexsort((t[:, 2], t[:, 1], t[:, 0]))]


# ----------------------------------------------------- feedback arc sets
# Exact minimum feedback arc set (dynamic programming over subsets) on strong components up
# to this size: 2^20 states x 20 items, about a second in numpy.
FAS_EXACT_MAX = 20
# Insertion local search keeps a dense weight matrix: components up to this size.
LOCAL_SEARCH_MAX = 3000
# At most this many sweeps of insertion moves (each sweep moves every item once).
_LOCAL_SEARCH_SWEEPS = 50
# Eades–Lin–Smyth picks the item of largest out - in degree by a full scan per step
# (quadratic); beyond this size a single ordering by net wins replaces it.
_ELS_MAX = 20_000
# A move must lower the cost by more than this (relative) to count as an improvement.
_IMPROVE_RTOL = 1e-12


@dataclass(frozen=True)
class ArcSet:
    """A feedback arc set: reversed arcs, strong components and the method per component."""

    reversed: np.ndarray
    component: np.ndarray
    components: list[tuple[int, np.ndarray, int, str]]


def feedback_arc_set(n: int, src: np.ndarray, dst: np.ndarray, cost: np.ndarray) -> ArcSet:
    """Fewest arcs (then least total ``cost``) whose reversal makes the digraph acyclic.

    Every cycle lies inside one strongly connected component, so each component
    is solved on its own: exactly by dynamic programming over subsets up to
    ``FAS_EXACT_MAX`` items, else by Eades, Lin & Smyth's (1993) greedy ordering
    followed by insertion local search. ``cost`` must lie in ``[1, 2)`` per arc so
    that the count comes first.
    """
    graph = sparse.csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    n_comp, label = csgraph.connected_components(graph, directed=True, connection="strong")
    reversed_ = np.zeros(src.size, dtype=bool)
    sizes = np.bincount(label, minlength=n_comp)
    components: list[tuple[int, np.ndarray, int, str]] = []
    inside = label[src] == label[dst]
    arc_comp = np.where(inside, label[src], -1)
    order = np.argsort(arc_comp, kind="stable")
    bounds = np.searchsorted(arc_comp[order], np.arange(n_comp + 1))
    members_by = np.argsort(label, kind="stable")
    member_bounds = np.searchsorted(label[members_by], np.arange(n_comp + 1))
    for c in np.flatnonzero(sizes > 1):
        members = members_by[member_bounds[c]:member_bounds[c + 1]]
        arcs = order[bounds[c]:bounds[c + 1]]
        local = np.full(n, -1)
        local[members] = np.arange(members.size)
        s, d, w = local[src[arcs]], local[dst[arcs]], cost[arcs]
        if members.size <= FAS_EXACT_MAX:
            rank = _exact_order(members.size, s, d, w)
            method = "exact"
        else:
            rank, method = _heuristic_order(members.size, s, d, w)
        back = rank[s] > rank[d]
        reversed_[arcs[back]] = True
        components.append((int(c), members, int(back.sum()), method))
    return ArcSet(reversed_, label, components)


def _exact_order(size: int, s: np.ndarray, d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Optimal linear order (position of each item) by DP over subsets placed first.

    ``cost(S + v) = cost(S) + sum of w(v -> u) for u in S``: v comes after the
    items it beat in S, so those arcs point backwards and are reversed.
    """
    weight = np.zeros((size, size))
    np.add.at(weight, (s, d), w)
    lo_bits = size // 2
    lo_tab = np.stack([_subset_sums(weight[v, :lo_bits]) for v in range(size)])
    hi_tab = np.stack([_subset_sums(weight[v, lo_bits:]) for v in range(size)])
    n_states = 1 << size
    states = np.arange(n_states, dtype=np.int64)
    layer = np.bitwise_count(states)
    by_layer = np.argsort(layer, kind="stable")
    layer_bounds = np.searchsorted(layer[by_layer], np.arange(size + 2))
    best = np.full(n_states, np.inf)
    best[0] = 0.0
    last = np.zeros(n_states, dtype=np.int8)
    lo_mask = (1 << lo_bits) - 1
    for k in range(size):
        current = by_layer[layer_bounds[k]:layer_bounds[k + 1]]
        for v in range(size):
            sel = current[(current >> v) & 1 == 0]
            val = best[sel] + lo_tab[v, sel & lo_mask] + hi_tab[v, sel >> lo_bits]
            target = sel | (1 << v)
            better = val < best[target]
            best[target[better]] = val[better]
            last[target[better]] = v
    rank = np.empty(size, dtype=np.int64)
    state = n_states - 1
    for position in range(size - 1, -1, -1):
        v = int(last[state])
        rank[v] = position
        state &= ~(1 << v)
    return rank


def _subset_sums(w: np.ndarray) -> np.ndarray:
    """``out[mask] = sum of w[b] over the bits b of mask``."""
    out = np.zeros(1)
    for value in w:
        out = np.concatenate([out, out + value])
    return out


def _heuristic_order(size: int, s: np.ndarray, d: np.ndarray, w: np.ndarray
                     ) -> tuple[np.ndarray, str]:
    if size <= _ELS_MAX:
        order = _eades_lin_smyth(size, s, d)
        method = "Eades–Lin–Smyth"
    else:
        net = np.bincount(s, minlength=size) - np.bincount(d, minlength=size)
        order = np.argsort(-net, kind="stable")
        method = "net-wins order"
    if size <= LOCAL_SEARCH_MAX:
        order = _insertion_search(size, s, d, w, order)
        method += " + insertion local search"
    rank = np.empty(size, dtype=np.int64)
    rank[order] = np.arange(size)
    return rank, method


def _eades_lin_smyth(size: int, s: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Eades, Lin & Smyth (1993): peel sinks to the end, sources to the front, else the
    item with the largest out-degree minus in-degree to the front."""
    out_adj = sparse.csr_matrix((np.ones(s.size), (s, d)), shape=(size, size))
    in_adj = out_adj.T.tocsr()
    outdeg = np.diff(out_adj.indptr).astype(np.int64)
    indeg = np.diff(in_adj.indptr).astype(np.int64)
    alive = np.ones(size, dtype=bool)
    front: list[np.ndarray] = []
    back: list[np.ndarray] = []

    def remove(items: np.ndarray) -> None:
        alive[items] = False
        for adj, deg in ((out_adj, indeg), (in_adj, outdeg)):
            nb = np.concatenate([adj.indices[adj.indptr[v]:adj.indptr[v + 1]] for v in items])
            np.subtract.at(deg, nb, 1)

    while alive.any():
        sinks = np.flatnonzero(alive & (outdeg == 0))
        if sinks.size:
            back.append(sinks)
            remove(sinks)
            continue
        sources = np.flatnonzero(alive & (indeg == 0))
        if sources.size:
            front.append(sources)
            remove(sources)
            continue
        delta = np.where(alive, outdeg - indeg, np.iinfo(np.int64).min)
        pick = np.array([int(np.argmax(delta))])
        front.append(pick)
        remove(pick)
    parts = front + back[::-1]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _insertion_search(size: int, s: np.ndarray, d: np.ndarray, w: np.ndarray,
                      order: np.ndarray) -> np.ndarray:
    """Move single items to their best position until no move lowers the reversed cost."""
    weight = np.zeros((size, size))
    np.add.at(weight, (s, d), w)
    order = np.asarray(order, dtype=np.int64)
    for _ in range(_LOCAL_SEARCH_SWEEPS):
        improved = False
        for v in order.copy():
            at = int(np.flatnonzero(order == v)[0])
            rest = np.delete(order, at)
            beats = weight[v, rest]
            beaten_by = weight[rest, v]
            before = np.concatenate([[0.0], np.cumsum(beats)])
            after = beaten_by.sum() - np.concatenate([[0.0], np.cumsum(beaten_by)])
            cost = before + after
            q = int(np.argmin(cost))
            if cost[q] < cost[at] - _IMPROVE_RTOL * max(1.0, cost[at]):
                order = np.insert(rest, q, v)
                improved = True
        if not improved:
            break
    return order


def witness_cycle(graph: sparse.csr_matrix, winner: int, loser: int) -> list[int]:
    """A shortest cycle through the arc ``winner -> loser``: the arc, then loser ⇝ winner.

    Returned as the items in cyclic order, starting with ``winner`` (each beats the
    next, the last beats ``winner``); empty if no path leads back.
    """
    _, pred = csgraph.breadth_first_order(graph, loser, directed=True,
                                          return_predecessors=True)
    path = [winner]
    while path[-1] != loser:
        prev = int(pred[path[-1]])
        if prev < 0:
            return []
        path.append(prev)
    forward = path[::-1]
    return [winner, *forward[:-1]]
