"""Bootstrap speed: replicates refitted from reweighted pair counts (issue 11).

Issue 11 asks for 1,000 bootstrap replicates of Bradley–Terry on 10^6
comparisons in under 10 s. Each size simulates m comparisons among n items
(uniformly random pairs, normal strengths, one judgement per row, and a
``prompt`` column with m / 100 prompts), fits ``BradleyTerry()`` once, then
times ``model.bootstrap`` end to end: encoding the table again, mapping rows to
the fitted pairs, the draws, the warm-started Newton refits and the tables.

Times are wall-clock seconds of one run. ``per replicate`` is the bootstrap
time divided by ``n_boot`` (the set-up is included, so it overstates the
marginal cost slightly). With 1000 items the information matrix is 999 × 999
and every Newton step factorises it; dense linear algebra is much slower under
this machine's default OpenBLAS core type than with ``OPENBLAS_CORETYPE=Haswell``
(see bt_vs_peers.py), so run the script both ways to see the difference.

Run: ``python benchmarks/bootstrap.py`` (100 and 1000 items, n_boot 1000, both
row and prompt-cluster resampling), or e.g.
``python benchmarks/bootstrap.py --sizes 1000:1e6 --n-boot 50 --no-cluster``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import special

import prefstat

SIZES = [(100, 10**6), (1000, 10**6)]
ROWS_PER_PROMPT = 100


def simulate(n: int, m: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s = rng.normal(size=n)
    a = rng.integers(0, n, m)
    b = (a + rng.integers(1, n, m)) % n
    y = rng.random(m) < special.expit(s[a] - s[b])
    return pd.DataFrame({"item_a": a, "item_b": b, "outcome": y.astype(np.float64),
                         "prompt": np.arange(m) // ROWS_PER_PROMPT})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", help="n:m pairs, e.g. 100:1e6 1000:1e6")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--no-cluster", action="store_true", help="skip prompt clusters")
    args = parser.parse_args()
    sizes = SIZES if not args.sizes else [
        (int(float(s.split(":")[0])), int(float(s.split(":")[1]))) for s in args.sizes]
    rows = []
    for n, m in sizes:
        df = simulate(n, m)
        start = time.perf_counter()
        model = prefstat.BradleyTerry().fit(df, items=np.arange(n))
        t_fit = time.perf_counter() - start
        for cluster in [None] + ([] if args.no_cluster else ["prompt"]):
            start = time.perf_counter()
            boot = model.bootstrap(df, n_boot=args.n_boot, cluster=cluster, random_state=0,
                                   items=np.arange(n))
            t_boot = time.perf_counter() - start
            ratio = boot.strengths["se"] / model.strengths_["se"]
            rows.append({
                "n": n, "m": m, "pairs": model.n_pairs_,
                "resampled": "judgements" if cluster is None else "prompts",
                "n_boot": args.n_boot, "fit s": t_fit, "bootstrap s": t_boot,
                "per replicate ms": 1e3 * t_boot / args.n_boot, "n_failed": boot.n_failed,
                "median se / wald se": float(ratio.median()),
            })
            print(pd.DataFrame(rows[-1:]).to_string(index=False, float_format="{:.3g}".format),
                  flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False, float_format="{:.3g}".format))


if __name__ == "__main__":
    main()
