"""Out-of-core counting: ``prefstat.io.aggregate_parquet`` on a Parquet dataset of 10^8 rows.

Writes a dataset of simulated Bradley–Terry comparisons (``--rows``, default
10^8; ``--items`` items with labels like ``model-00042``, 10 % ties, string
columns dictionary-encoded as any Parquet writer stores them), in files of
``--rows-per-file`` rows with row groups of 10^6, under ``--dir`` (default
``benchmarks/results/parquet_stream``, git-ignored; removed at the end unless
``--keep``). Free disk space is checked first.

Each measurement runs in a fresh Python process, so its peak resident memory
(``ru_maxrss``) is its own:

``baseline``
    Import prefstat, pandas and pyarrow, read nothing: the floor under the others.
``stream``
    ``aggregate_parquet(files, batch_size=--batch-size)``: the counts per
    ordered pair. Run on the first ``--compare-rows`` rows and on all rows; the
    same peak memory at both sizes is the point (memory grows with distinct
    pairs, not rows).
``in-memory``
    ``pandas.read_parquet(files)`` then ``ComparisonData.from_frame(df)
    .pair_counts()``, on the first ``--compare-rows`` rows only. Its counts
    must equal the stream's exactly (checked).

Run: ``python benchmarks/parquet_stream.py`` (10^8 rows: about 400 MB of
files) or ``--rows 2e6 --compare-rows 1e6`` for a quick run.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
DEFAULT_DIR = ROOT / "results" / "parquet_stream"
ROW_GROUP = 10**6
# Measured: about 3.5 bytes per row for these columns (dictionary codes, snappy).
# Ask for twice that, plus a margin, before writing.
DISK_BYTES_PER_ROW = 8
DISK_MARGIN = 1 << 30


def write_dataset(folder: Path, n_rows: int, n_items: int, rows_per_file: int,
                  seed: int) -> list[Path]:
    """Simulated comparisons in Parquet files; returns the file paths in order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    strength = rng.normal(size=n_items)
    labels = pa.array([f"model-{i:05d}" for i in range(n_items)])
    outcomes = pa.array(["a", "b", "tie"])
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    written = 0
    while written < n_rows:
        path = folder / f"part-{len(paths):04d}.parquet"
        in_file = min(rows_per_file, n_rows - written)
        with pq.ParquetWriter(path, pa.schema([("item_a", pa.dictionary(pa.int32(), pa.string())),
                                               ("item_b", pa.dictionary(pa.int32(), pa.string())),
                                               ("outcome", pa.dictionary(pa.int8(), pa.string()))])
                              ) as writer:
            done = 0
            while done < in_file:
                m = min(ROW_GROUP, in_file - done)
                a = rng.integers(0, n_items, m)
                b = (a + rng.integers(1, n_items, m)) % n_items
                p_a = 1 / (1 + np.exp(strength[b] - strength[a]))
                u = rng.random(m)
                code = np.where(u < 0.1, 2, np.where(rng.random(m) < p_a, 0, 1)).astype(np.int8)
                writer.write_table(pa.table({
                    "item_a": pa.DictionaryArray.from_arrays(pa.array(a, pa.int32()), labels),
                    "item_b": pa.DictionaryArray.from_arrays(pa.array(b, pa.int32()), labels),
                    "outcome": pa.DictionaryArray.from_arrays(pa.array(code), outcomes),
                }), row_group_size=ROW_GROUP)
                done += m
        written += in_file
        paths.append(path)
    return paths


def child(mode: str, paths: list[str], batch_size: int, out: str | None) -> None:
    """Run one measurement in this (fresh) process and print it as JSON."""
    import pandas as pd
    import pyarrow as pa

    import prefstat
    from prefstat.io import aggregate_parquet

    start = time.perf_counter()
    counts = None
    if mode == "stream":
        counts = aggregate_parquet(paths, batch_size=batch_size)
    elif mode == "in-memory":
        df = pd.read_parquet(paths)
        counts = prefstat.ComparisonData.from_frame(df).pair_counts()
    seconds = time.perf_counter() - start
    if counts is not None and out:
        np.savez(out, first=counts.first, second=counts.second, counts=counts.counts,
                 items=np.asarray(counts.items, dtype=str))
    print(json.dumps({
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "arrow_peak_mb": pa.default_memory_pool().max_memory() / 2**20,
        "cells": None if counts is None else counts.n_cells,
    }))


def measure(mode: str, paths: list[Path], batch_size: int, out: Path | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--batch-size", str(batch_size),
           *(["--out", str(out)] if out else []), "--paths", *map(str, paths)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e8)
    parser.add_argument("--compare-rows", type=float, default=1e7,
                        help="rows for the stream vs in-memory comparison")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rows-per-file", type=float, default=1e7)
    parser.add_argument("--batch-size", type=int, default=1 << 20)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the Parquet files")
    parser.add_argument("--child", choices=["baseline", "stream", "in-memory"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--paths", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.paths or [], args.batch_size, args.out)
        return

    n_rows, n_compare = int(args.rows), int(min(args.compare_rows, args.rows))
    rows_per_file = int(args.rows_per_file)
    if n_compare % min(rows_per_file, n_rows):
        raise SystemExit("--compare-rows must be a whole number of files (--rows-per-file)")
    args.dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(args.dir).free
    need = n_rows * DISK_BYTES_PER_ROW + DISK_MARGIN
    if free < need:
        raise SystemExit(f"{free / 2**30:.1f} GiB free under {args.dir}; {need / 2**30:.1f} GiB "
                         "needed. Pass a smaller --rows or another --dir.")
    folder = args.dir / f"rows{n_rows}_items{args.items}_seed{args.seed}"
    try:
        start = time.perf_counter()
        shutil.rmtree(folder, ignore_errors=True)
        paths = write_dataset(folder, n_rows, args.items, rows_per_file, args.seed)
        size = sum(p.stat().st_size for p in paths)
        print(f"wrote {n_rows:,} rows, {args.items:,} items: {len(paths)} file(s), "
              f"{size / 2**20:.0f} MiB, in {time.perf_counter() - start:.0f} s")
        first = paths[: max(n_compare // rows_per_file, 1)]
        runs = [("baseline", 0, []), ("stream", n_compare, first),
                ("in-memory", n_compare, first)]
        if n_rows > n_compare:
            runs.append(("stream", n_rows, paths))
        header = (f"{'run':>10} {'rows':>13} {'seconds':>8} {'Mrows/s':>8} "
                  f"{'peak RSS MiB':>13} {'Arrow peak MiB':>15} {'pairs':>9}")
        print(f"batch_size = {args.batch_size:,}; each run in a fresh process")
        print(header)
        print("-" * len(header))
        saved = {}
        for mode, rows, files in runs:
            out = folder / f"{mode}_{rows}.npz" if mode != "baseline" else None
            r = measure(mode, files, args.batch_size, out)
            if out is not None and rows == n_compare:
                saved[mode] = np.load(out)
            rate = f"{rows / r['seconds'] / 1e6:8.1f}" if rows else f"{'':>8}"
            print(f"{mode:>10} {rows:>13,} {r['seconds']:>8.2f} {rate} {r['peak_rss_mb']:>13.0f} "
                  f"{r['arrow_peak_mb']:>15.0f} {r['cells'] or '':>9}", flush=True)
        same = all(np.array_equal(saved["stream"][k], saved["in-memory"][k])
                   for k in ("first", "second", "counts", "items"))
        print(f"stream counts == in-memory counts on {n_compare:,} rows: {same}")
        if not same:
            raise SystemExit("the streamed counts differ from the in-memory counts")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
