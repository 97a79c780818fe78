"""Time ``prefstat._aggregate.aggregate`` against a single-pass counting floor.

Run from the project root (not collected by pytest)::

    python benchmarks/aggregate.py                      # 10^7 rows, n_items 200, 10^4, 10^5
    python benchmarks/aggregate.py --rows 1000000 --items 200 10000

What is timed, per (n_items, ordered, weighted):

``aggregate``
    ``aggregate(first, second, outcome, n_items, 4, weight=w, ordered=...)`` on
    integer codes (``first``, ``second``: int64 item codes, ``first != second``;
    ``outcome``: int8 codes 0..3; ``w``: float64 weights, or None), i.e. the
    work behind ``ComparisonData.pair_counts``: outcome counts per observed
    pair, sorted, compacted to the observed pairs.
``floor``
    ``np.bincount(first * n_items + second[, weights=w])``: one counting pass
    over the same arrays into a dense array of n_items² bins, without outcome
    columns, without compaction to observed pairs and without the unordered
    fold. The same floor is used for ordered and unordered runs. It is only
    run where n_items² bins fit in ``--floor-max-bins``; otherwise the
    ``hash floor`` is reported instead:
``hash floor``
    ``pandas.factorize(first * n_items + second)``: one hashing pass over the
    pair keys (unsorted, no counting), the cheapest way to group a key space
    too large for a dense array.

Every time is the best of ``--repeat`` runs (``time.perf_counter``). The data
are drawn once per n_items with a fixed seed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from prefstat._aggregate import aggregate

N_OUTCOMES = 4
# Outcome codes a, b, tie, tie_bothbad read from the other side: b, a, tie, tie_bothbad.
SWAP_OUTCOME = np.array([1, 0, 2, 3], dtype=np.int8)
TARGET_RATIO = 3.0


def best_of(repeat: int, fn: Callable[..., object], *args: object, **kwargs: object) -> float:
    """Smallest wall time of ``repeat`` calls of ``fn(*args, **kwargs)``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times)


def bincount_floor(first: np.ndarray, second: np.ndarray, n_items: int,
                   weight: np.ndarray | None) -> np.ndarray:
    """The floor: one bincount pass over the packed pair keys."""
    return np.bincount(first * n_items + second, weights=weight)


def hash_floor(first: np.ndarray, second: np.ndarray, n_items: int) -> np.ndarray:
    """Where n_items² bins do not fit: one hashing pass over the packed pair keys."""
    return pd.factorize(first * n_items + second)[0]


def make_data(n_rows: int, n_items: int, seed: int) -> dict[str, np.ndarray]:
    """Random comparisons between distinct items, outcomes and weights."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, n_items, n_rows, dtype=np.int64)
    second = (first + rng.integers(1, n_items, n_rows, dtype=np.int64)) % n_items
    outcome = rng.integers(0, N_OUTCOMES, n_rows, dtype=np.int8)
    weight = rng.exponential(1.0, n_rows)
    return {"first": first, "second": second, "outcome": outcome, "weight": weight}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10**7)
    parser.add_argument("--items", type=int, nargs="+", default=[200, 10**4, 10**5])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--floor-max-bins", type=int, default=1 << 28,
                        help="largest n_items**2 for which the bincount floor is run")
    args = parser.parse_args()

    print(f"rows = {args.rows:,}; best of {args.repeat}; target: aggregate <= "
          f"{TARGET_RATIO:g} x floor")
    print("floor      = np.bincount(first * n_items + second[, weights=w])  (dense n_items² bins)")
    print("hash floor = pandas.factorize(first * n_items + second)  (when n_items² bins do not "
          "fit)")
    header = f"{'n_items':>8} {'ordered':>8} {'weighted':>9} {'aggregate s':>12} " \
             f"{'floor s':>9} {'ratio':>6}  floor used"
    print(header)
    print("-" * len(header))
    for n_items in args.items:
        data = make_data(args.rows, n_items, args.seed)
        first, second = data["first"], data["second"]
        dense_floor = n_items * n_items <= args.floor_max_bins
        for weighted in (False, True):
            w = data["weight"] if weighted else None
            if dense_floor:
                floor = best_of(args.repeat, bincount_floor, first, second, n_items, w)
                floor_name = "bincount" + (" (weighted)" if weighted else "")
            else:
                floor = best_of(args.repeat, hash_floor, first, second, n_items)
                floor_name = f"hash floor (n_items² = {n_items**2:.0e} bins do not fit)"
            for ordered in (True, False):
                took = best_of(args.repeat, aggregate, first, second, data["outcome"], n_items,
                               N_OUTCOMES, weight=w, ordered=ordered,
                               swap_outcome=SWAP_OUTCOME)
                print(f"{n_items:>8} {ordered!s:>8} {weighted!s:>9} {took:>12.3f} "
                      f"{floor:>9.3f} {took / floor:>6.2f}  {floor_name}")


if __name__ == "__main__":
    main()
