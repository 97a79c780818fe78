"""
Past one machine: counting a large table with Dask
==================================================

Every prefstat model of paired comparisons reads the same sufficient
statistics: how often each outcome occurred for each pair of items. A table
of a billion judgements among a thousand items has at most a million
ordered pairs, so it can be counted where the rows live, a partition at a
time, and fitted on one machine from the counts.
:func:`prefstat.io.aggregate_dask` does the counting on a Dask cluster. This
tutorial runs it on a small local cluster, fits a Bradley–Terry model to the
counts, and checks that the estimates are exactly those of the in-memory
path. The table is simulated, so that its size can be chosen and the truth
is known.
"""

# %%
# A million judgements
# --------------------
# :func:`prefstat.datasets.simulate_comparisons` draws judgements from a
# documented Bradley–Terry model: here 20 items, Davidson ties and a
# first-position advantage of 0.2 on the log-odds scale. It returns the
# table with the truth that generated it.
import time

import dask.dataframe as dd
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster

import prefstat
from prefstat.datasets import simulate_comparisons
from prefstat.io import aggregate_dask, counts_to_frame

sim = simulate_comparisons(n_items=20, n_comparisons=1_000_000, tie_parameter=-1.0,
                           order_effect=0.2, random_state=0)
rows = sim.data
print(f"{len(rows):,} rows, {rows.memory_usage(deep=True).sum() / 2**20:.1f} MiB in memory")
rows.head()

# %%
# On a cluster the rows would already be a Dask DataFrame, read from files
# where they are kept (``dd.read_parquet("s3://bucket/battles/")``). Here we
# split the pandas table into 8 partitions.
ddf = dd.from_pandas(rows, npartitions=8)
ddf.npartitions

# %%
# A local cluster
# ---------------
# A :class:`distributed.LocalCluster` with two workers stands in for a real
# cluster. ``processes=False`` keeps the workers as threads of this process,
# which starts in a fraction of a second; with processes (the default) the
# partitions would be sent to the workers, as on a real cluster. A
# :class:`distributed.Client` made inside the ``with`` block becomes the
# default scheduler, so :func:`~prefstat.io.aggregate_dask` runs on it
# without being told.
#
# Each partition is validated and counted where it lives, with the same
# checks as the in-memory path (an unknown outcome or a missing label raises
# the same typed error, naming the partition and rows), and the partial
# counts are merged in a tree. Only counts travel.
start = time.perf_counter()
with (LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                   dashboard_address=None) as cluster,
      Client(cluster)):
    counts = aggregate_dask(ddf)
print(f"counted {len(rows):,} rows into {counts.n_cells} ordered pairs "
      f"in {time.perf_counter() - start:.1f} s")

# %%
# The counts are a :class:`~prefstat.PairCounts`: one row per ordered pair
# (first-shown item, second-shown item), one column per outcome.
counts.to_frame().head()

# %%
# Fit on the counts
# -----------------
# :func:`~prefstat.io.counts_to_frame` expands the counts into the canonical
# table with a ``weight`` column: one row per pair and outcome instead of one
# per judgement. Any model fits it with ``weight="weight"``.
# ``order_effect=True`` is possible because the counts keep the order in
# which the items were shown (``ordered=True``, the default).
table = counts_to_frame(counts)
print(f"{len(table)} weighted rows")
from_counts = prefstat.BradleyTerry(ties="davidson", order_effect=True).fit(
    table, weight="weight", items=counts.items)
from_counts.params_.loc[["order_effect", "tie"]]

# %%
# The same estimates as the rows
# ------------------------------
# The in-memory path fits the million rows directly. The counts are sums of
# whole numbers, so they are exactly the in-memory counts, and the solver
# does the same arithmetic on them:
from_rows = prefstat.BradleyTerry(ties="davidson", order_effect=True).fit(rows)
difference = (from_counts.params_ - from_rows.params_).abs().max()
difference

# %%
print(f"largest difference over {len(from_rows.params_)} parameters: "
      f"{difference.max():.1e}")

# %%
# And against the truth that generated the data, in standard errors:
truth = sim.truth["strength"]
z = (from_counts.strengths_["estimate"] - truth) / from_counts.strengths_["se"]
print(f"largest error {z.abs().max():.2f} standard errors over {len(truth)} items")

# %%
# The same on an existing cluster
# -------------------------------
# Nothing in the counting changes on a real cluster; only the client does.
# Connect to the scheduler, and every Dask computation in the process, this
# one included, runs there:
#
# .. code-block:: python
#
#     from distributed import Client
#
#     client = Client("tcp://scheduler.example.org:8786")
#     ddf = dd.read_parquet("s3://bucket/battles/")   # read by the workers
#     counts = aggregate_dask(ddf, item_a="model_a", item_b="model_b",
#                             outcome="winner_code")
#
# The workers import prefstat to count, so the same prefstat version must be
# installed in their environment. Errors raised on a worker reach the client
# with their type and the partition and rows they concern.
#
# What does not scale
# -------------------
# Counting scales with the rows; the fit does not need to, because it reads
# the counts. Its cost grows with the number of items (dense Newton steps up
# to 2,500 free parameters, conjugate gradients beyond), and the counts, the
# item labels and the fit live on the client. What needs the rows
# themselves does not distribute this way: bootstraps that resample rows or
# clusters of rows, row-level residuals and contest covariates, exact
# rater-by-item random effects, and rankings (whose sufficient statistics
# are choice sets, not pairs). Graded outcomes must be collapsed first.
# :doc:`/user_guide/scaling` says why for each, and when streaming Parquet
# files on one machine (:func:`~prefstat.io.aggregate_parquet`) is the
# faster choice: on one machine, Dask's scheduling costs more than it saves.
#
# The leaderboard from the counts
# -------------------------------
# The result a person acts on is the same as from the rows: strengths with
# intervals. With a million judgements the intervals are a few hundredths
# wide, too narrow to see beside the strengths themselves, so the figure
# shows each item's estimate minus its true strength, with the 95% interval:
# every interval should cross zero about 19 times in 20.
est = from_counts.strengths_.join(truth.rename("truth")).sort_values("truth")
error = est[["estimate", "ci_lower", "ci_upper"]].sub(est["truth"], axis=0)
y = np.arange(len(est))
fig, ax = plt.subplots(figsize=(6.5, 5.5))
ax.errorbar(error["estimate"], y, xerr=[error["estimate"] - error["ci_lower"],
                                        error["ci_upper"] - error["estimate"]],
            fmt="o", ms=4, capsize=2, color="C0")
ax.axvline(0, color="C3", lw=1)
ax.set_yticks(y, [f"{item} ({s:+.2f})" for item, s in est["truth"].items()])
ax.set_xlabel("estimate − true log-strength (95% Wald interval)")
ax.set_title(f"{len(rows):,} judgements, fitted from {len(table)} weighted rows")
fig.tight_layout()

# %%
# The estimates from the counts equal those from the rows (the difference
# printed above), so nothing is lost by counting first. Move the counting to
# the data when the rows do not fit on one machine, and keep the rest of the
# analysis as it is.
