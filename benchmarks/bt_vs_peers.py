"""Bradley–Terry fitting speed: prefstat against choix and the scikit-learn arena recipe.

Every method fits the same simulated data in one process. Times are wall-clock
seconds (best of ``--repeat`` runs) and include each method's own preparation
from integer-coded arrays (prefstat: building and validating the canonical
table, aggregation, fit and standard errors for every item; choix: building its
input; scikit-learn: building the sparse ±1 design). The log-likelihood gap is
each method's log-likelihood at its estimate minus prefstat's (negative = short
of the optimum), all evaluated by one function.

Two reference rows per size, not peers: prefstat fitted from a pandas table
whose item labels are a categorical of strings (fit infers the items), and the
aggregation floor, one counting pass over the pairs (``np.bincount`` of
``a * n + b``, or ``pandas.factorize`` where n^2 bins do not fit, as in
benchmarks/aggregate.py); prefstat's time over the floor's is printed too.

Peers:
- choix ``ilsr_pairwise_dense`` (needs an n × n count matrix), ``ilsr_pairwise``
  and ``mm_pairwise`` (lists of pairs), convergence tolerance 1e-8;
- scikit-learn ``LogisticRegression`` on the ±1 sparse design without intercept
  and without penalty (the LLM-arena recipe), lbfgs, tol 1e-8.

A peer is skipped at sizes where it would run for minutes (said in the output).

Run: ``python benchmarks/bt_vs_peers.py`` (all sizes) or ``--sizes 50:1e4 200:1e5``.
The machine's OPENBLAS_CORETYPE setting slows dense linear algebra; to compare
with a current numpy, unset it in the benchmark's command only.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import choix
import numpy as np
import pandas as pd
from scipy import sparse

import prefstat

SIZES = [(50, 10**4), (200, 10**5), (1000, 10**6), (10000, 10**6), (200, 10**7)]
# Largest problems each peer is run on (beyond them it takes minutes).
LIST_PEERS_MAX_M = 10**5  # choix ilsr_pairwise / mm_pairwise loop over pairs in Python
DENSE_PEER_MAX_N = 5000  # choix ilsr_pairwise_dense holds an n x n matrix


def simulate(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = rng.normal(size=n)
    a = rng.integers(0, n, m)
    b = (a + rng.integers(1, n, m)) % n
    y = rng.random(m) < 1 / (1 + np.exp(-(s[a] - s[b])))
    return a, b, y


def loglik(strength: np.ndarray, a: np.ndarray, b: np.ndarray, y: np.ndarray) -> float:
    d = strength[a] - strength[b]
    return float(-np.logaddexp(0, np.where(y, -d, d)).sum())


def run_prefstat(n, a, b, y):
    df = pd.DataFrame({"item_a": a, "item_b": b, "outcome": y.astype(np.float64)})
    model = prefstat.BradleyTerry().fit(df, items=np.arange(n))
    assert model.strengths_["se"].notna().all()
    return model.strengths_["estimate"].to_numpy()


def categorical_table(n, a, b, y):
    """The same data with item labels as a pandas categorical of strings."""
    labels = pd.Index([f"model-{i:06d}" for i in range(n)])
    return pd.DataFrame({"item_a": pd.Categorical.from_codes(a, labels),
                         "item_b": pd.Categorical.from_codes(b, labels),
                         "outcome": y.astype(np.float64)})


def run_prefstat_categorical(df):
    model = prefstat.BradleyTerry().fit(df)
    assert model.strengths_["se"].notna().all()
    return model.strengths_["estimate"].to_numpy()


def aggregation_floor(n, a, b):
    """One counting pass over the pairs: np.bincount, or pandas.factorize where n^2 bins
    do not fit (the floor of benchmarks/aggregate.py)."""
    if n * n <= 1 << 26:
        return np.bincount(a * n + b, minlength=n * n)
    return pd.factorize(a * n + b)


def run_choix_dense(n, a, b, y):
    winner, loser = np.where(y, a, b), np.where(y, b, a)
    mat = np.zeros((n, n))
    np.add.at(mat, (winner, loser), 1.0)
    return choix.ilsr_pairwise_dense(mat, alpha=0.0, tol=1e-8, max_iter=10_000)


def _pairs(a, b, y):
    return list(zip(np.where(y, a, b).tolist(), np.where(y, b, a).tolist()))


def run_choix_ilsr(n, a, b, y):
    return choix.ilsr_pairwise(n, _pairs(a, b, y), alpha=0.0, tol=1e-8, max_iter=10_000)


def run_choix_mm(n, a, b, y):
    return choix.mm_pairwise(n, _pairs(a, b, y), alpha=0.0, tol=1e-8, max_iter=10_000)


def run_sklearn(n, a, b, y):
    from sklearn.linear_model import LogisticRegression

    m = a.size
    rows = np.repeat(np.arange(m), 2)
    cols = np.column_stack([a, b]).ravel()
    vals = np.tile([1.0, -1.0], m)
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(m, n))
    lr = LogisticRegression(fit_intercept=False, penalty=None, tol=1e-8, max_iter=10_000)
    lr.fit(x, y)
    return lr.coef_.ravel()


PEERS: dict[str, tuple[Callable, Callable[[int, int], bool]]] = {
    "choix ilsr_pairwise_dense": (run_choix_dense, lambda n, m: n <= DENSE_PEER_MAX_N),
    "choix ilsr_pairwise": (run_choix_ilsr, lambda n, m: m <= LIST_PEERS_MAX_M),
    "choix mm_pairwise": (run_choix_mm, lambda n, m: m <= LIST_PEERS_MAX_M),
    "sklearn LogisticRegression": (run_sklearn, lambda n, m: True),
}


CATEGORICAL = "prefstat, categorical labels"
FLOOR = "aggregation floor"


def best_time(fn, repeat, *args):
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", help="n:m pairs, e.g. 50:1e4 1000:1e6")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = SIZES if not args.sizes else [
        (int(float(s.split(":")[0])), int(float(s.split(":")[1]))) for s in args.sizes]
    rows = []
    for n, m in sizes:
        a, b, y = simulate(n, m)
        repeat = args.repeat if m <= 10**6 else 1
        t_ours, est = best_time(run_prefstat, repeat, n, a, b, y)
        ll_ours = loglik(est, a, b, y)
        rows.append({"n": n, "m": m, "method": "prefstat (with SEs)", "seconds": t_ours,
                     "ratio to prefstat": 1.0, "loglik gap": 0.0})
        table = categorical_table(n, a, b, y)
        t, est = best_time(run_prefstat_categorical, repeat, table)
        rows.append({"n": n, "m": m, "method": CATEGORICAL, "seconds": t,
                     "ratio to prefstat": t / t_ours,
                     "loglik gap": loglik(est, a, b, y) - ll_ours})
        del table
        t, _ = best_time(aggregation_floor, repeat, n, a, b)
        rows.append({"n": n, "m": m, "method": FLOOR, "seconds": t,
                     "ratio to prefstat": t / t_ours, "loglik gap": np.nan})
        for name, (fn, allowed) in PEERS.items():
            if not allowed(n, m):
                rows.append({"n": n, "m": m, "method": name, "seconds": np.nan,
                             "ratio to prefstat": np.nan, "loglik gap": np.nan,
                             "note": "skipped: minutes at this size"})
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t, est = best_time(fn, repeat, n, a, b, y)
            rows.append({"n": n, "m": m, "method": name, "seconds": t,
                         "ratio to prefstat": t / t_ours,
                         "loglik gap": loglik(np.asarray(est), a, b, y) - ll_ours})
        print(pd.DataFrame(rows[-(len(PEERS) + 3):]).to_string(index=False), flush=True)
        print(flush=True)
    table = pd.DataFrame(rows)
    seconds = table.pivot_table(index=["n", "m"], columns="method", values="seconds")
    floor = seconds[FLOOR]
    print("prefstat's time / the aggregation floor's (target <= 3 at m >= 1e6):")
    print(pd.DataFrame({"integer codes": seconds["prefstat (with SEs)"] / floor,
                        "categorical labels": seconds[CATEGORICAL] / floor}).to_string())
    print()
    fastest = (table[table["method"].isin(list(PEERS))]
               .groupby(["n", "m"])["ratio to prefstat"].min())
    print("Fastest peer's time / prefstat's time (> 1: prefstat faster):")
    print(fastest.to_string())


if __name__ == "__main__":
    main()
