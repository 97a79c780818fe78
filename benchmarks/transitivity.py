"""Transitivity diagnostic speed on simulated Bradley–Terry data.

Times :func:`prefstat.diagnostics.transitivity` with its defaults (199 bootstrap
replicates, at most 200,000 analysed triples) on ``simulate_comparisons`` data,
end to end from the canonical table: validation and encoding, aggregation, the
exact circular-triad count, the triple sample, stochastic transitivity, the
feedback arc set, HodgeRank, the Bradley–Terry fit and the bootstrap. Wall-clock
seconds, best of ``--repeat`` runs; the target is 10 s for 10^3 items and 10^6
comparisons on the project's 2-core machine.

Run: ``python benchmarks/transitivity.py`` or ``--sizes 1000:1e6 100:1e5``.
"""

from __future__ import annotations

import argparse
import time

from prefstat.datasets import simulate_comparisons
from prefstat.diagnostics import transitivity

TARGET_SECONDS = {(1000, 10**6): 10.0}


def _size(text: str) -> tuple[int, int]:
    items, comparisons = text.split(":")
    return int(items), int(float(comparisons))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=_size, default=[(1000, 10**6)])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for n_items, n_comparisons in args.sizes:
        sim = simulate_comparisons(n_items=n_items, n_comparisons=n_comparisons,
                                   random_state=0)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = transitivity(sim.data, random_state=0)
            best = min(best, time.perf_counter() - start)
        target = TARGET_SECONDS.get((n_items, n_comparisons))
        verdict = "" if target is None else (
            f"  (target {target:g} s: {'met' if best < target else 'MISSED'})")
        print(f"{n_items} items, {n_comparisons} comparisons: {best:.2f} s{verdict}")
        print(f"  T = {result.circular_triads}, triples {result.n_triples} "
              f"(analysed {result.n_triples_used}), reversals "
              f"{int(result.kendall['reversals'].iloc[0])}, "
              f"hodge gradient share {result.hodge['gradient']:.3f}")


if __name__ == "__main__":
    main()
