"""Ingestion speed: label encoding by dtype, with and without the per-column fast path.

``ComparisonData.from_frame`` encodes item labels in ``_encoding.factorize_labels``.
Categorical and string-dtype columns (pandas ``str``, ``string``, Arrow
strings) take a fast path (``_factorize.factorize_each``): factorise each
column by its own means (a categorical's codes, Arrow's hash kernel), then check
and encode only the distinct labels. "general" times the same call with the
fast path switched off, which is the code before the fast path existed.

Timed, per label dtype, on ``--rows`` comparisons among ``--items`` items
(labels like ``model-00042``, outcomes ``a``/``b``/``tie`` of the same dtype):

``labels``
    ``factorize_labels([item_a, item_b], "item")`` alone.
``from_frame``
    ``ComparisonData.from_frame(df)``: labels, self-comparison check, outcomes.

Then ``prefstat.io.read_comparisons`` from a ``pyarrow.Table`` and a
``polars.DataFrame`` (string columns; skipped when the package is absent), which
includes the conversion to pandas.

Wall-clock seconds, best of ``--repeat``. Run: ``python benchmarks/ingest.py``
(10^7 rows) or ``--rows 1e6``.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from prefstat import ComparisonData
from prefstat import _encoding as enc
from prefstat.io import read_comparisons

DTYPES = ["object", "str", "category", "string[pyarrow]"]


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def make_frame(n_rows: int, n_items: int, dtype: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = np.array([f"model-{i:05d}" for i in range(n_items)], dtype=object)
    a = rng.integers(0, n_items, n_rows)
    b = (a + rng.integers(1, n_items, n_rows)) % n_items
    outcome = rng.integers(0, 3, n_rows)
    outcomes = np.array(["a", "b", "tie"], dtype=object)
    if dtype == "category":
        return pd.DataFrame({"item_a": pd.Categorical.from_codes(a, labels),
                             "item_b": pd.Categorical.from_codes(b, labels),
                             "outcome": pd.Categorical.from_codes(outcome, outcomes)})
    return pd.DataFrame({"item_a": pd.Series(labels[a], dtype=dtype),
                         "item_b": pd.Series(labels[b], dtype=dtype),
                         "outcome": pd.Series(outcomes[outcome], dtype=dtype)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    n_rows = int(args.rows)
    fast_path = enc.factorize_each
    print(f"rows = {n_rows:,}, items = {args.items:,}; seconds, best of {args.repeat}")
    header = f"{'label dtype':>16} {'step':>11} {'general s':>10} {'fast s':>8} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    for dtype in DTYPES:
        df = make_frame(n_rows, args.items, dtype)
        steps = {
            "labels": lambda df=df: enc.factorize_labels([df["item_a"], df["item_b"]], "item"),
            "from_frame": lambda df=df: ComparisonData.from_frame(df),
        }
        for step, fn in steps.items():
            seconds = {}
            for path in ("general", "fast"):
                enc.factorize_each = fast_path if path == "fast" else (lambda columns: None)
                try:
                    seconds[path] = best_of(args.repeat, fn)
                finally:
                    enc.factorize_each = fast_path
            print(f"{dtype:>16} {step:>11} {seconds['general']:>10.2f} {seconds['fast']:>8.2f} "
                  f"{seconds['general'] / seconds['fast']:>8.1f}x", flush=True)
    if importlib.util.find_spec("pyarrow") is None:
        print("read_comparisons: skipped (pyarrow is not installed)")
        return
    import pyarrow as pa

    table = pa.Table.from_pandas(make_frame(n_rows, args.items, "object"), preserve_index=False)
    took = best_of(args.repeat, lambda: read_comparisons(table))
    print(f"read_comparisons(pyarrow.Table, string columns): {took:.2f} s")
    if importlib.util.find_spec("polars") is None:
        print("read_comparisons(polars.DataFrame): skipped (polars is not installed)")
        return
    import polars as pl

    frame = pl.from_arrow(table)
    took = best_of(args.repeat, lambda: read_comparisons(frame))
    print(f"read_comparisons(polars.DataFrame, string columns): {took:.2f} s")


if __name__ == "__main__":
    main()
