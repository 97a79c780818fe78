"""Plackett–Luce fitting speed: prefstat against choix's ranking methods.

Every method fits the same simulated rankings in one process. Each ranking
orders ``k`` items drawn at random out of ``n`` (no ties), by the Gumbel trick
on log-worths ``N(0, 1)``. Times are wall-clock seconds, the best of at least
``--repeat`` runs and of as many more as fit in ``--min-time`` seconds (a fit of
a few milliseconds is timed over a hundred runs or so, which a shared machine's
noise needs), and include each method's own preparation from an integer array of
rankings (``m x k`` item codes, best first): prefstat builds and validates the
canonical long table, encodes it, fits, and computes standard errors for every
item; choix builds its list of lists. The log-likelihood gap is each method's
log-likelihood at its estimate minus prefstat's (negative = short of the
optimum), all evaluated by one function.

Peers (choix 0.4.1, maximum likelihood, ``alpha=0``):
- ``ilsr_rankings``: iterative Luce spectral ranking, tolerance 1e-8;
- ``opt_rankings``: Newton-CG on choix's top-1 objective, tolerance 1e-8.

``opt_rankings`` loops over choice stages in Python for every function,
gradient and Hessian evaluation, so it is skipped above ``OPT_PEER_MAX_M``
rankings (said in the output).

Run: ``python benchmarks/pl_vs_choix.py`` (all sizes) or ``--sizes 100:1e4:10``
(``n:m:k``). OpenBLAS's threads spin when the machine is oversubscribed and then
slow prefstat's dense Cholesky factorisations many times over; on a shared
machine run with ``OPENBLAS_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import choix
import numpy as np
import pandas as pd

import prefstat

SIZES = [(10, 100, 4), (20, 10**3, 5), (100, 10**4, 10), (1000, 10**5, 10)]
OPT_PEER_MAX_M = 10**3  # choix opt_rankings: ~35 s at 1,000 rankings of 5


def simulate(n: int, m: int, k: int, seed: int = 0) -> np.ndarray:
    """``m`` rankings of ``k`` distinct items out of ``n``, best first (Gumbel trick)."""
    rng = np.random.default_rng(seed)
    lam = rng.normal(size=n)
    members = np.argsort(rng.random((m, n)), axis=1)[:, :k] if n <= 50 else \
        _distinct(rng, n, m, k)
    utility = lam[members] + rng.gumbel(size=members.shape)
    return np.take_along_axis(members, np.argsort(-utility, axis=1), axis=1)


def _distinct(rng: np.random.Generator, n: int, m: int, k: int) -> np.ndarray:
    out = rng.integers(n, size=(m, k))
    redo = np.arange(m)
    while redo.size:
        s = np.sort(out[redo], axis=1)
        redo = redo[(s[:, 1:] == s[:, :-1]).any(axis=1)]
        out[redo] = rng.integers(n, size=(redo.size, k))
    return out


def loglik(lam: np.ndarray, rankings: np.ndarray) -> float:
    eta = lam[rankings]
    log_den = np.logaddexp.accumulate(eta[:, ::-1], axis=1)[:, ::-1]
    return float((eta[:, :-1] - log_den[:, :-1]).sum())


def run_prefstat(n: int, rankings: np.ndarray) -> np.ndarray:
    m, k = rankings.shape
    df = pd.DataFrame({"ranking_id": np.repeat(np.arange(m), k), "item": rankings.ravel(),
                       "rank": np.tile(np.arange(1, k + 1), m)})
    model = prefstat.PlackettLuce().fit(df)
    assert model.strengths_["se"].notna().all() and model.converged_
    lam = np.full(n, np.nan)
    lam[model.items_.to_numpy()] = model.strengths_["estimate"].to_numpy()
    return lam


def run_choix_ilsr(n: int, rankings: np.ndarray) -> np.ndarray:
    return choix.ilsr_rankings(n, rankings.tolist(), alpha=0.0, tol=1e-8, max_iter=10_000)


def run_choix_opt(n: int, rankings: np.ndarray) -> np.ndarray:
    return choix.opt_rankings(n, rankings.tolist(), alpha=0.0, tol=1e-8)


PEERS: dict[str, tuple[Callable, Callable[[int, int], bool]]] = {
    "choix ilsr_rankings": (run_choix_ilsr, lambda n, m: True),
    "choix opt_rankings": (run_choix_opt, lambda n, m: m <= OPT_PEER_MAX_M),
}


def best_time(fn, repeat, min_time, *args):
    """Best wall-clock time of at least ``repeat`` runs, going on until ``min_time`` has passed."""
    best, out, runs, begin = np.inf, None, 0, time.perf_counter()
    while runs < repeat or time.perf_counter() - begin < min_time:
        start = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - start)
        runs += 1
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", help="n:m:k triples, e.g. 100:1e4:10")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method, at least")
    parser.add_argument("--min-time", type=float, default=0.5,
                        help="seconds of runs per method, at least")
    args = parser.parse_args()
    sizes = SIZES if not args.sizes else [
        tuple(int(float(v)) for v in s.split(":")) for s in args.sizes]
    rows = []
    for n, m, k in sizes:
        rankings = simulate(n, m, k)
        repeat = args.repeat
        t_ours, est = best_time(run_prefstat, repeat, args.min_time, n, rankings)
        ll_ours = loglik(est, rankings)
        rows.append({"n": n, "m": m, "k": k, "method": "prefstat (with SEs)",
                     "seconds": t_ours, "ratio to prefstat": 1.0, "loglik gap": 0.0})
        for name, (fn, allowed) in PEERS.items():
            if not allowed(n, m):
                rows.append({"n": n, "m": m, "k": k, "method": name, "seconds": np.nan,
                             "ratio to prefstat": np.nan, "loglik gap": np.nan,
                             "note": "skipped: minutes at this size"})
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t, est = best_time(fn, repeat, args.min_time, n, rankings)
            rows.append({"n": n, "m": m, "k": k, "method": name, "seconds": t,
                         "ratio to prefstat": t / t_ours,
                         "loglik gap": loglik(np.asarray(est), rankings) - ll_ours})
        print(pd.DataFrame(rows[-(len(PEERS) + 1):]).to_string(index=False), flush=True)
        print(flush=True)
    table = pd.DataFrame(rows)
    fastest = (table[table["method"] != "prefstat (with SEs)"]
               .groupby(["n", "m", "k"])["ratio to prefstat"].min())
    print("Fastest peer's time / prefstat's time (> 1: prefstat faster):")
    print(fastest.to_string())


if __name__ == "__main__":
    main()
