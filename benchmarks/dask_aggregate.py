"""Counting on a Dask cluster: ``prefstat.io.aggregate_dask`` against the Parquet stream.

Writes ``--rows`` simulated comparisons (the data of ``parquet_stream.py``) to
Parquet files of ``--rows-per-file`` rows under a temporary folder, starts a
``distributed.LocalCluster`` (``--workers`` worker processes, one thread each),
and times:

``aggregate_dask``
    ``aggregate_dask(dask.dataframe.read_parquet(files))``: each partition read
    and counted on a worker, partial counts merged in a tree on the workers.
``aggregate_parquet``
    The same files streamed in this process (one core for counting).

and checks that both give the same counts, and the same Bradley–Terry
estimates as the weighted table they expand to. Wall-clock seconds of one run;
cluster start-up is not included. On the 2-core machine the cluster cannot
beat the single-process stream by much: it is here to show parity and
overhead, not speed-up.

Run: ``python benchmarks/dask_aggregate.py`` (10^7 rows) or ``--rows 1e6``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from parquet_stream import write_dataset

from prefstat import BradleyTerry
from prefstat.io import aggregate_dask, aggregate_parquet, counts_to_frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--rows-per-file", type=float, default=1e6)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    n_rows = int(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_dataset(Path(tmp), n_rows, args.items, int(args.rows_per_file), seed=0)
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster):
            start = time.perf_counter()
            ddf = dd.read_parquet([str(p) for p in paths])
            on_cluster = aggregate_dask(ddf)
            t_dask = time.perf_counter() - start
        start = time.perf_counter()
        streamed = aggregate_parquet(paths)
        t_stream = time.perf_counter() - start
    same = all(np.array_equal(getattr(on_cluster, k), getattr(streamed, k))
               for k in ("first", "second", "counts")) and on_cluster.items.equals(streamed.items)
    fits = [BradleyTerry(ties="davidson", order_effect=True).fit(
        counts_to_frame(c), weight="weight", items=c.items) for c in (on_cluster, streamed)]
    gap = float(np.max(np.abs(fits[0].strengths_["estimate"] - fits[1].strengths_["estimate"])))
    print(f"rows = {n_rows:,} in {len(paths)} files, items = {args.items}, "
          f"LocalCluster: {args.workers} worker processes x 1 thread")
    print(f"{'method':>18} {'seconds':>8} {'Mrows/s':>8}")
    for name, t in (("aggregate_dask", t_dask), ("aggregate_parquet", t_stream)):
        print(f"{name:>18} {t:>8.2f} {n_rows / t / 1e6:>8.1f}")
    print(f"same counts: {same}; largest |estimate difference| of the BT fits: {gap:g}")
    if not same or gap != 0.0:
        raise SystemExit("aggregate_dask and aggregate_parquet disagree")


if __name__ == "__main__":
    main()
