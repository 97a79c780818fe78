"""prefstat.io: Arrow and Polars input, Parquet streaming and Dask aggregation.

The reference for every count is the in-memory path on the same rows,
``ComparisonData.from_frame(df).pair_counts(...)`` (itself checked against a
pandas groupby in test_aggregate.py), and for every estimate a
``BradleyTerry`` fit of the rows themselves. Optional packages: tests needing
pyarrow, polars or dask skip with the reason where they are absent.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import importlib.util

import numpy as np
import pandas as pd
import pytest

import prefstat._partial_counts as partial
from prefstat import (
    BradleyTerry,
    ComparisonData,
    DataValidationError,
    EmptyDataError,
    InvalidItemError,
    InvalidOutcomeError,
    InvalidParameterError,
    InvalidWeightError,
    MissingColumnError,
    MissingDependencyError,
    PairCounts,
)
from prefstat.datasets import simulate_comparisons
from prefstat.io import (
    aggregate_dask,
    aggregate_parquet,
    counts_to_frame,
    read_comparisons,
)


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


needs_pyarrow = pytest.mark.skipif(
    _absent("pyarrow"), reason="pyarrow is not installed (pip install 'prefstat[parquet]')")
needs_polars = pytest.mark.skipif(
    _absent("polars") or _absent("pyarrow"),
    reason="polars and pyarrow are needed (pip install 'prefstat[polars,parquet]')")
needs_dask = pytest.mark.skipif(
    _absent("dask.dataframe") or _absent("distributed"),
    reason="dask is not installed (pip install 'prefstat[dask]')")

# Unweighted (or integer-weighted) counts are sums of whole numbers, exact in float64 in
# any order; float weights are summed in a different order batch by batch: a few ulps.
SUM_RTOL = 1e-12
# The streamed and in-memory fits see the same sufficient statistics in the same order,
# so the solver does the same arithmetic: estimates must agree to the last bit.
ESTIMATE_RTOL = 0.0
# Generous bound on the LocalCluster test (about 10 s on the 2-core machine): a hung
# cluster fails the test instead of stalling the suite.
DASK_TIMEOUT_SECONDS = 240


# ------------------------------------------------------------------- helpers
def simulated(n_comparisons=4000, n_items=15, n_raters=6, seed=0, weights=None):
    """Simulated BT data with ties, an order effect and raters, as plain strings."""
    sim = simulate_comparisons(n_items=n_items, n_comparisons=n_comparisons,
                               n_raters=n_raters, tie_parameter=0.3, order_effect=0.2,
                               random_state=seed)
    df = sim.data.astype(str)
    rng = np.random.default_rng(seed)
    if weights == "integer":
        df["w"] = rng.integers(0, 4, len(df)).astype(np.float64)
    elif weights == "float":
        df["w"] = rng.exponential(1.0, len(df))
    return df


def write_parquet(df, path, row_group_size):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path,
                   row_group_size=row_group_size)
    return path


def assert_counts_equal(got: PairCounts, want: PairCounts, rtol: float = 0.0):
    pd.testing.assert_index_equal(got.items, want.items)
    np.testing.assert_array_equal(got.first, want.first)
    np.testing.assert_array_equal(got.second, want.second)
    assert got.columns == want.columns and got.ordered == want.ordered
    if want.rater is None:
        assert got.rater is None and got.raters is None
    else:
        pd.testing.assert_index_equal(got.raters, want.raters)
        np.testing.assert_array_equal(got.rater, want.rater)
    if rtol == 0.0:
        np.testing.assert_array_equal(got.counts, want.counts)
    else:
        np.testing.assert_allclose(got.counts, want.counts, rtol=rtol)


def in_memory(df, ordered=True, rater=None, weight=None, items=None):
    data = ComparisonData.from_frame(df, rater=rater, weight=weight, items=items)
    return data.pair_counts(ordered=ordered, by_rater=rater is not None)


@pytest.fixture
def merge_often(monkeypatch):
    """Merge partial counts after every few cells, so the accumulator's rounds all run."""
    monkeypatch.setattr(partial, "MERGE_MIN_CELLS", 16)


# ------------------------------------------------------------- counts_to_frame
def test_counts_to_frame_round_trips_every_outcome_and_rater():
    df = pd.DataFrame({"item_a": ["x", "y", "x", "y", "x"], "item_b": ["y", "x", "y", "x", "y"],
                       "outcome": ["a", "tie_bothbad", "tie", "b", "a"],
                       "rater": ["r1", "r1", "r2", "r2", "r1"]})
    want = in_memory(df, rater="rater")
    table = counts_to_frame(want)
    assert list(table.columns) == ["item_a", "item_b", "outcome", "rater", "weight"]
    assert set(table["outcome"]) == {"a", "b", "tie", "tie_bothbad"}
    assert_counts_equal(in_memory(table, rater="rater", weight="weight"), want)


def test_counts_to_frame_rejects_graded_counts():
    from prefstat.convert import from_graded

    raw = pd.DataFrame({"item_a": ["x", "y"], "item_b": ["y", "x"], "grade": [1, 3]})
    graded = from_graded(raw, "grade", levels=[1, 2, 3])
    counts = ComparisonData.from_frame(graded).pair_counts(graded=True)
    with pytest.raises(DataValidationError, match="graded scale"):
        counts_to_frame(counts)


# ------------------------------------------------------------ missing packages
@pytest.mark.parametrize("call, extra", [
    (lambda: aggregate_parquet("x.parquet"), "parquet"),
    (lambda: aggregate_dask(None), "dask"),
])
def test_missing_optional_package_names_the_extra(monkeypatch, call, extra):
    real = importlib.import_module

    def import_module(name, *args):
        if name.split(".")[0] in {"pyarrow", "dask"}:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real(name, *args)

    monkeypatch.setattr("prefstat.io.importlib.import_module", import_module)
    with pytest.raises(MissingDependencyError, match=rf"pip install 'prefstat\[{extra}\]'") as e:
        call()
    assert isinstance(e.value, ImportError)


def test_read_comparisons_rejects_other_types():
    with pytest.raises(DataValidationError, match="pandas DataFrame, a pyarrow Table"):
        read_comparisons(np.zeros((3, 3)))


def test_read_comparisons_passes_pandas_through():
    df = simulated(300)
    got = read_comparisons(df, rater="rater")
    want = ComparisonData.from_frame(df, rater="rater")
    np.testing.assert_array_equal(got.a, want.a)
    pd.testing.assert_index_equal(got.items, want.items)


# --------------------------------------------------------------- Arrow input
@needs_pyarrow
@pytest.mark.parametrize("label_type", ["string", "large_string", "dictionary"])
def test_read_comparisons_from_arrow_equals_pandas(label_type):
    import pyarrow as pa

    df = simulated(500, weights="float")
    table = pa.Table.from_pandas(df, preserve_index=False)
    for name in ("item_a", "item_b", "rater", "outcome"):
        column = pa.array(df[name].to_numpy(dtype=object), type=pa.string())
        if label_type == "large_string":
            column = column.cast(pa.large_string())
        elif label_type == "dictionary":
            column = column.dictionary_encode()
        table = table.set_column(table.column_names.index(name), name, column)
    got = read_comparisons(table, rater="rater", weight="w")
    want = ComparisonData.from_frame(df, rater="rater", weight="w")
    for attr in ("a", "b", "outcome", "weight", "rater"):
        np.testing.assert_array_equal(getattr(got, attr), getattr(want, attr))
    pd.testing.assert_index_equal(got.items, want.items)
    pd.testing.assert_index_equal(got.raters, want.raters)
    batch = read_comparisons(table.to_batches(max_chunksize=len(df))[0], rater="rater")
    np.testing.assert_array_equal(batch.a, want.a)


@needs_pyarrow
def test_read_comparisons_keeps_the_checks():
    import pyarrow as pa

    table = pa.table({"item_a": ["x", "y", None], "item_b": ["y", "x", "x"],
                      "outcome": ["a", "b", "a"]})
    with pytest.raises(InvalidItemError, match="missing in 1 row"):
        read_comparisons(table)
    with pytest.raises(MissingColumnError, match="'judge'"):
        read_comparisons(table.drop_null(), rater="judge")


@needs_pyarrow
def test_read_comparisons_ordered_arrow_outcome_is_nominal():
    import pyarrow as pa

    outcome = pa.DictionaryArray.from_arrays(
        pa.array([0, 1, 2], pa.int8()), pa.array(["a", "b", "tie"]), ordered=True)
    table = pa.table({"item_a": ["x", "y", "x"], "item_b": ["y", "x", "y"], "outcome": outcome})
    data = read_comparisons(table)
    assert not data.is_graded
    assert data.outcome.tolist() == [0, 1, 2]


# -------------------------------------------------------------- Polars input
@needs_polars
def test_read_comparisons_from_polars_equals_pandas():
    import polars as pl

    df = simulated(500)
    frame = pl.DataFrame({
        "item_a": pl.Series(df["item_a"].tolist(), dtype=pl.Categorical),
        "item_b": df["item_b"].tolist(),
        "outcome": pl.Series(df["outcome"].tolist(), dtype=pl.Enum(["a", "b", "tie"])),
        "rater": df["rater"].tolist(),
    })
    got = read_comparisons(frame, rater="rater")
    want = ComparisonData.from_frame(df, rater="rater")
    for attr in ("a", "b", "outcome", "rater"):
        np.testing.assert_array_equal(getattr(got, attr), getattr(want, attr))
    pd.testing.assert_index_equal(got.items, want.items)
    with pytest.raises(DataValidationError, match="LazyFrame"):
        read_comparisons(frame.lazy())


# ------------------------------------------------------------ Parquet stream
@needs_pyarrow
@pytest.mark.parametrize("ordered", [True, False])
@pytest.mark.parametrize("rater", [None, "rater"])
@pytest.mark.parametrize("weights", [None, "integer", "float"])
def test_parquet_counts_equal_in_memory(tmp_path, merge_often, ordered, rater, weights):
    df = simulated(weights=weights)
    weight = None if weights is None else "w"
    halves = np.array_split(np.arange(len(df)), [1500])
    for k, rows in enumerate(halves):
        write_parquet(df.iloc[rows], tmp_path / f"part-{k}.parquet", row_group_size=300)
    got = aggregate_parquet(tmp_path, ordered=ordered, rater=rater, weight=weight,
                            batch_size=128)
    want = in_memory(df, ordered=ordered, rater=rater, weight=weight)
    assert_counts_equal(got, want, rtol=SUM_RTOL if weights == "float" else 0.0)


@needs_pyarrow
@pytest.mark.parametrize("ordered", [True, False])
def test_parquet_bradley_terry_estimates_identical(tmp_path, ordered):
    df = simulated(6000, n_items=20)
    path = write_parquet(df, tmp_path / "battles.parquet", row_group_size=700)
    counts = aggregate_parquet(path, ordered=ordered, batch_size=500)
    streamed = BradleyTerry(ties="davidson", order_effect=ordered).fit(
        counts_to_frame(counts), weight="weight", items=counts.items)
    rows = BradleyTerry(ties="davidson", order_effect=ordered).fit(df)
    pd.testing.assert_frame_equal(streamed.strengths_, rows.strengths_, rtol=ESTIMATE_RTOL,
                                  atol=0.0)
    assert streamed.loglik_ == rows.loglik_


@needs_pyarrow
def test_labels_appearing_only_in_late_row_groups(tmp_path, merge_often):
    # The first row groups hold items m..p and one rater; later ones bring items that sort
    # before them (so every earlier code moves) and new raters.
    early = pd.DataFrame({"item_a": ["m", "n", "o", "p"] * 5, "item_b": ["n", "o", "p", "m"] * 5,
                          "outcome": ["a", "b", "tie", "a"] * 5, "rater": "r9"})
    late = pd.DataFrame({"item_a": ["a", "m", "b", "zz", "a", "p"],
                         "item_b": ["m", "b", "n", "a", "p", "zz"],
                         "outcome": ["a", "b", "a", "tie", "b", "a"],
                         "rater": ["r0", "r9", "r5", "r0", "r5", "r9"]})
    df = pd.concat([early, late], ignore_index=True)
    path = write_parquet(df, tmp_path / "late.parquet", row_group_size=4)
    for ordered in (True, False):
        got = aggregate_parquet(path, rater="rater", ordered=ordered, batch_size=4)
        assert_counts_equal(got, in_memory(df, rater="rater", ordered=ordered))
    assert list(got.items) == ["a", "b", "m", "n", "o", "p", "zz"]


@needs_pyarrow
@pytest.mark.parametrize("column, value, error, fragments", [
    ("outcome", "draw", InvalidOutcomeError, ["unknown value", "'draw'", "rows 13"]),
    ("outcome", None, InvalidOutcomeError, ["missing in 1 row", "13"]),
    ("item_b", None, InvalidItemError, ["'item_b'", "missing in 1 row", "13"]),
    ("item_b", "y", InvalidItemError, ["with itself", "rows 13", "'y'"]),
    ("w", -1.0, InvalidWeightError, ["'w'", "rows 13", "-1.0"]),
])
def test_bad_value_in_late_row_group_names_file_batch_and_row(tmp_path, column, value, error,
                                                              fragments):
    n = 16
    df = pd.DataFrame({"item_a": ["x", "y"] * (n // 2), "item_b": ["y", "z"] * (n // 2),
                       "outcome": ["a", "b"] * (n // 2), "w": np.ones(n)})
    write_parquet(df, tmp_path / "a-good.parquet", row_group_size=4)
    df[column] = df[column].astype(object)
    df.loc[13, column] = value
    write_parquet(df, tmp_path / "b-bad.parquet", row_group_size=4)
    with pytest.raises(error) as err:
        aggregate_parquet(tmp_path, weight="w", batch_size=4)
    message = str(err.value)
    assert "b-bad.parquet" in message and "a-good.parquet" not in message
    assert "rows 12 to 15 of that file" in message
    for fragment in fragments:
        assert fragment in message


@needs_pyarrow
def test_batch_of_only_self_comparisons_names_the_rows(tmp_path):
    # Batch 1 holds one label only; from_frame alone would call that "only one item".
    df = pd.DataFrame({"item_a": ["x", "y", "z", "z"], "item_b": ["y", "x", "z", "z"],
                       "outcome": ["a", "b", "a", "b"]})
    path = write_parquet(df, tmp_path / "selves.parquet", row_group_size=2)
    with pytest.raises(InvalidItemError, match=r"batch 1 \(rows 2 to 3 .*every row compares an "
                                               r"item with itself \(rows 2, 3, items 'z'\)"):
        aggregate_parquet(path, batch_size=2)


@needs_pyarrow
def test_parquet_items_fix_the_vocabulary(tmp_path):
    df = simulated(600, n_items=6)
    path = write_parquet(df, tmp_path / "d.parquet", row_group_size=100)
    order = [*sorted(set(df["item_a"]) | set(df["item_b"]), reverse=True), "never_seen"]
    got = aggregate_parquet(path, items=order, batch_size=64)
    assert_counts_equal(got, in_memory(df, items=order))
    with pytest.raises(InvalidItemError, match="not in the list given as items="):
        aggregate_parquet(path, items=order[:3], batch_size=64)


@needs_pyarrow
def test_parquet_column_checks_come_before_any_row(tmp_path):
    path = write_parquet(simulated(50), tmp_path / "d.parquet", row_group_size=10)
    with pytest.raises(MissingColumnError, match=r"'judge' \(argument rater=\)"):
        aggregate_parquet(path, rater="judge")
    with pytest.raises(DataValidationError, match="same column is named for two roles"):
        aggregate_parquet(path, rater="item_a")
    with pytest.raises(InvalidParameterError, match="batch_size"):
        aggregate_parquet(path, batch_size=0)


@needs_pyarrow
def test_parquet_without_rows_and_unreadable_files(tmp_path):
    empty = write_parquet(simulated(50).iloc[:0], tmp_path / "empty.parquet", row_group_size=10)
    with pytest.raises(EmptyDataError, match="no rows"):
        aggregate_parquet(empty)
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(DataValidationError, match="pyarrow could not read"):
        aggregate_parquet(junk)


@needs_pyarrow
def test_parquet_accepts_an_open_dataset_and_a_list_of_files(tmp_path):
    import pyarrow.dataset as ds

    df = simulated(900)
    paths = [write_parquet(df.iloc[k::3], tmp_path / f"p{k}.parquet", row_group_size=50)
             for k in range(3)]
    reordered = pd.concat([df.iloc[k::3] for k in range(3)])
    want = in_memory(reordered)
    assert_counts_equal(aggregate_parquet(paths, batch_size=100), want)
    assert_counts_equal(aggregate_parquet(ds.dataset(paths), batch_size=100), want)


@needs_pyarrow
def test_parquet_hive_partitions_and_filter(tmp_path):
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    df = simulated(2000, n_raters=4)
    ds.write_dataset(pa.Table.from_pandas(df, preserve_index=False), tmp_path, format="parquet",
                     partitioning=["rater"], partitioning_flavor="hive")
    assert_counts_equal(aggregate_parquet(tmp_path, rater="rater", batch_size=300),
                        in_memory(df, rater="rater"))
    first_rater = df["rater"].min()
    selected = aggregate_parquet(tmp_path, rater="rater", batch_size=300,
                                 filter=(pc.field("rater") != first_rater)
                                 & (pc.field("outcome") != "tie"))
    keep = (df["rater"] != first_rater) & (df["outcome"] != "tie")
    assert_counts_equal(selected, in_memory(df[keep], rater="rater"))


@needs_pyarrow
def test_parquet_graded_scale_is_not_counted_as_nominal(tmp_path):
    from prefstat.convert import from_graded

    raw = pd.DataFrame({"item_a": ["x", "y", "x"], "item_b": ["y", "x", "y"],
                        "grade": ["A much better", "same", "B better"]})
    graded = from_graded(raw, "grade", levels=["A much better", "A better", "same",
                                               "B better", "B much better"])
    path = tmp_path / "graded.parquet"
    graded.to_parquet(path)
    with pytest.raises(InvalidOutcomeError, match="'A much better'"):
        aggregate_parquet(path)


# ------------------------------------------------------------------- Dask
def _dask_frame(df, npartitions):
    import dask.dataframe as dd

    return dd.from_pandas(df, npartitions=npartitions, sort=False)


@needs_dask
@pytest.mark.parametrize("ordered", [True, False])
def test_dask_counts_equal_in_memory_local_scheduler(ordered):
    df = simulated(3000, weights="integer")
    got = aggregate_dask(_dask_frame(df, 7), rater="rater", weight="w", ordered=ordered,
                         split_every=3)
    assert_counts_equal(got, in_memory(df, rater="rater", weight="w", ordered=ordered))


@needs_dask
def test_dask_errors_name_the_partition_and_row():
    df = simulated(300)
    df["outcome"] = df["outcome"].astype(object)
    df.loc[250, "outcome"] = "draw"
    with pytest.raises(InvalidOutcomeError, match=r"partition 2: .*'draw'.*rows 250"):
        aggregate_dask(_dask_frame(df, 3))
    with pytest.raises(MissingColumnError, match="'judge'"):
        aggregate_dask(_dask_frame(df, 3), rater="judge")
    with pytest.raises(InvalidParameterError, match="split_every"):
        aggregate_dask(_dask_frame(df, 3), split_every=1)
    with pytest.raises(DataValidationError, match=r"dask\.dataframe\.DataFrame"):
        aggregate_dask(df)


@needs_dask
def test_dask_label_kinds_must_agree_across_partitions():
    df = pd.DataFrame({"item_a": pd.Series(["x", "y", 1, 2], dtype=object),
                       "item_b": pd.Series(["y", "x", 2, 1], dtype=object),
                       "outcome": ["a", "b", "a", "b"]})
    import dask

    with dask.config.set({"dataframe.convert-string": False}), \
            pytest.raises(InvalidItemError, match="cannot be merged: item labels mix kinds"):
        aggregate_dask(_dask_frame(df, 2))


@needs_dask
@pytest.mark.slow
def test_dask_local_cluster_parity_with_in_memory():
    from distributed import Client, LocalCluster, get_task_stream

    df = simulated(20000, n_items=25, n_raters=8)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    client = Client(cluster)
    # Not a with-block: leaving one waits for a hung call, which the timeout is to prevent.
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        ddf = _dask_frame(df, 6)
        with get_task_stream(client) as tasks:
            by_rater = pool.submit(aggregate_dask, ddf, rater="rater").result(
                timeout=DASK_TIMEOUT_SECONDS)
            counts = pool.submit(aggregate_dask, ddf).result(timeout=DASK_TIMEOUT_SECONDS)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        client.close()
        cluster.close()
    # The partitions were counted, and merged, by the two worker processes.
    ran = [(str(t["key"]).split("-")[0].strip("('"), t["worker"]) for t in tasks.data]
    assert {name for name, _ in ran} >= {"count_slice", "merge"}
    assert len({worker for _, worker in ran}) == 2
    assert_counts_equal(by_rater, in_memory(df, rater="rater"))
    assert_counts_equal(counts, in_memory(df))
    on_cluster = BradleyTerry(ties="davidson", order_effect=True).fit(
        counts_to_frame(counts), weight="weight", items=counts.items)
    rows = BradleyTerry(ties="davidson", order_effect=True).fit(df)
    pd.testing.assert_frame_equal(on_cluster.strengths_, rows.strengths_, rtol=ESTIMATE_RTOL,
                                  atol=0.0)
