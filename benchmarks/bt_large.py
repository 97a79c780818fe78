"""Bradley–Terry at scale: 10^5 items, 10^7 comparisons, a standard error for every item.

Simulates m comparisons among n items (uniformly random pairs, normal
strengths, one judgement per row), then fits ``BradleyTerry()`` from the
DataFrame of integer codes, timing the whole fit (validation, aggregation,
connectivity, Newton iterations and the approximate item standard errors,
which ``se_method="auto"`` picks beyond 2,500 items). Peak memory is the
process's ``ru_maxrss``, before the fit (the simulated table) and after it.
Targets (issue 3): under 30 s and under 4 GiB peak at 10^5 items x 10^7 rows.

Run: ``python benchmarks/bt_large.py`` (10^5 items, 10^7 rows) or e.g.
``python benchmarks/bt_large.py --items 1e4 --rows 1e6``.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd
from scipy import special

import prefstat


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=float, default=1e5)
    parser.add_argument("--rows", type=float, default=1e7)
    args = parser.parse_args()
    n, m = int(args.items), int(args.rows)
    rng = np.random.default_rng(0)
    s = rng.normal(size=n)
    a = rng.integers(0, n, m)
    b = (a + rng.integers(1, n, m)) % n
    y = rng.random(m) < special.expit(s[a] - s[b])
    df = pd.DataFrame({"item_a": a, "item_b": b, "outcome": y.astype(np.float64)})
    del a, b, y
    before = peak_mib()
    start = time.perf_counter()
    model = prefstat.BradleyTerry().fit(df, items=np.arange(n))
    seconds = time.perf_counter() - start
    se = model.strengths_["se"].to_numpy()
    est = model.strengths_["estimate"].to_numpy()
    print(pd.DataFrame([{
        "n": n, "m": m, "pairs": model.n_pairs_, "seconds": seconds,
        "peak MiB before fit": before, "peak MiB": peak_mib(),
        "se method": model.se_method_, "n_iter": model.n_iter_,
        "items with finite se": int(np.isfinite(se).sum()),
        "corr(estimate, truth)": float(np.corrcoef(est, s - s.mean())[0, 1]),
    }]).to_string(index=False, float_format="{:.3g}".format))


if __name__ == "__main__":
    main()
