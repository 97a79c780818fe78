"""Sufficient statistics: ``aggregate`` and ``ComparisonData.pair_counts``.

The reference is an independent pandas ``groupby`` on the same rows; every
counting path of ``aggregate`` (dense bincount, sorted with packed keys, sorted
with argsort) is forced in turn. Property tests check the invariances the
models rely on.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefstat._aggregate as agg
from prefstat import OUTCOMES, ComparisonData

N_OUTCOMES = len(OUTCOMES)
# Outcome read from the other side: a <-> b, ties stay (written out, not imported).
SWAP = {"a": "b", "b": "a", "tie": "tie", "tie_bothbad": "tie_bothbad"}
SWAP_CODES = np.array([OUTCOMES.index(SWAP[name]) for name in OUTCOMES])
# Sums of weights are compared after different summation orders: a few ulps.
SUM_RTOL = 1e-12
HYPOTHESIS = settings(max_examples=60, deadline=None)


# --------------------------------------------------------------------- reference
def swap_sides(frame, mask, a, b):
    """Exchange columns a and b where mask holds; mark those rows in column 'swapped'."""
    mask = pd.Series(np.asarray(mask, dtype=bool), index=frame.index)
    return frame.assign(**{a: frame[a].where(~mask, frame[b]),
                           b: frame[b].where(~mask, frame[a]), "swapped": mask})


def groupby_counts(first, second, outcome, weight=None, group=None, ordered=True):
    """Counts per (first, second[, group]) x outcome, by pandas groupby, sorted by key."""
    frame = pd.DataFrame({"first": first, "second": second, "outcome": np.asarray(outcome, int),
                          "weight": 1.0 if weight is None else weight})
    if group is not None:
        frame["group"] = group
    if not ordered:
        frame = swap_sides(frame, frame["first"] > frame["second"], "first", "second")
        frame["outcome"] = frame["outcome"].map(dict(enumerate(SWAP_CODES))).where(
            frame.pop("swapped"), frame["outcome"])
    keys = ["first", "second"] + (["group"] if group is not None else [])
    table = (frame.groupby([*keys, "outcome"])["weight"].sum()
             .unstack("outcome", fill_value=0.0)
             .reindex(columns=range(N_OUTCOMES), fill_value=0.0)
             .sort_index())
    return table


def random_rows(rng, n_rows, n_items, n_groups=3, zero_weight_share=0.3):
    first = rng.integers(0, n_items, n_rows)
    second = (first + rng.integers(1, n_items, n_rows)) % n_items
    outcome = rng.integers(0, N_OUTCOMES, n_rows).astype(np.int8)
    weight = rng.exponential(1.0, n_rows)
    weight[rng.random(n_rows) < zero_weight_share] = 0.0
    group = rng.integers(0, n_groups, n_rows)
    return first, second, outcome, weight, group


@pytest.fixture(params=["dense", "sorted", "sorted-argsort"])
def path(request, monkeypatch):
    """Force one counting path of ``aggregate`` and check that it was taken."""
    calls = []
    original = agg._group_sorted

    def spy(key, n_keys):
        calls.append(n_keys)
        return original(key, n_keys)

    monkeypatch.setattr(agg, "_group_sorted", spy)
    if request.param == "dense":
        monkeypatch.setattr(agg, "_DENSE_CELLS_MAX", 1 << 30)
        monkeypatch.setattr(agg, "_DENSE_CELLS_PER_ROW", 1 << 30)
    else:
        monkeypatch.setattr(agg, "_DENSE_CELLS_MAX", 1)
    if request.param == "sorted-argsort":
        monkeypatch.setattr(agg, "_PACK_BITS", 0)
    yield request.param
    assert bool(calls) == (request.param != "dense"), "the forced path was not taken"


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "unordered"])
@pytest.mark.parametrize("by_group", [False, True], ids=["pairs", "by_group"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("n_rows", "n_items"), [(500, 7), (2000, 40), (1, 2)])
def test_aggregate_matches_groupby(path, ordered, by_group, weighted, n_rows, n_items):
    rng = np.random.default_rng(n_rows + n_items)
    first, second, outcome, weight, group = random_rows(rng, n_rows, n_items)
    w = weight if weighted else None
    g = group if by_group else None
    got_first, got_second, got_group, counts, inverse = agg.aggregate(
        first, second, outcome, n_items, N_OUTCOMES, weight=w, group=g, n_groups=3,
        ordered=ordered, swap_outcome=SWAP_CODES, return_inverse=True,
    )
    expected = groupby_counts(first, second, outcome, w, g, ordered)
    keys = expected.index.to_frame(index=False)
    np.testing.assert_array_equal(got_first, keys["first"])
    np.testing.assert_array_equal(got_second, keys["second"])
    if by_group:
        np.testing.assert_array_equal(got_group, keys["group"])
    np.testing.assert_allclose(counts, expected.to_numpy(), rtol=SUM_RTOL, atol=0)
    assert counts.dtype == np.float64
    # row_cell: every row points at the cell of its own (unordered) pair and group.
    lo, hi = (first, second) if ordered else (np.minimum(first, second),
                                              np.maximum(first, second))
    np.testing.assert_array_equal(got_first[inverse], lo)
    np.testing.assert_array_equal(got_second[inverse], hi)
    if by_group:
        np.testing.assert_array_equal(got_group[inverse], group)
    if not ordered:
        assert np.all(got_first < got_second)


def test_cells_of_zero_weight_rows_are_kept(path):
    # Pair (0, 1) has only zero-weight rows; pair (1, 2) mixes zero and positive weights.
    first = np.array([0, 0, 1, 1, 2])
    second = np.array([1, 1, 2, 2, 0])
    outcome = np.array([0, 1, 0, 2, 3], dtype=np.int8)
    weight = np.array([0.0, 0.0, 0.0, 2.0, 1.0])
    for ordered in (True, False):
        got_first, got_second, _, counts, inverse = agg.aggregate(
            first, second, outcome, 3, N_OUTCOMES, weight=weight, ordered=ordered,
            swap_outcome=SWAP_CODES, return_inverse=True,
        )
        expected = groupby_counts(first, second, outcome, weight, ordered=ordered)
        keys = expected.index.to_frame(index=False)
        np.testing.assert_array_equal(got_first, keys["first"])
        np.testing.assert_array_equal(got_second, keys["second"])
        np.testing.assert_array_equal(counts, expected.to_numpy())
        assert (got_first[inverse[0]], got_second[inverse[0]]) == (0, 1)
        assert counts[inverse[0]].sum() == 0.0


def test_all_weights_zero(path):
    first, second = np.array([0, 2, 1]), np.array([1, 0, 2])
    outcome = np.array([0, 1, 2], dtype=np.int8)
    got_first, _, _, counts, _ = agg.aggregate(first, second, outcome, 3, N_OUTCOMES,
                                               weight=np.zeros(3))
    assert got_first.size == 3
    assert not counts.any()


def test_unordered_needs_swap_outcome():
    with pytest.raises(ValueError, match="swap_outcome"):
        agg.aggregate(np.array([0]), np.array([1]), np.array([0]), 2, N_OUTCOMES,
                      ordered=False)


# ------------------------------------------------------------ labelled pair_counts
def labelled_frame(rng, n_rows, n_items, n_raters=4):
    items = np.array([f"item{k:02d}" for k in range(n_items)])
    first, second, outcome, weight, group = random_rows(rng, n_rows, n_items, n_raters)
    return pd.DataFrame({
        "item_a": items[first], "item_b": items[second],
        "outcome": np.array(OUTCOMES)[outcome], "rater": np.array(list("pqrs"))[group],
        "weight": weight,
    })


def labelled_reference(frame, ordered, by_rater, weighted):
    """Expected to_frame() of pair_counts, computed with pandas on labels."""
    df = frame.copy()
    if not weighted:
        df["weight"] = 1.0
    if not ordered:
        # codes follow sorted labels, so the unordered pair is (smaller, larger) label
        df = swap_sides(df, df["item_a"] > df["item_b"], "item_a", "item_b")
        df["outcome"] = df["outcome"].map(SWAP).where(df.pop("swapped"), df["outcome"])
    keys = ["item_a", "item_b"] + (["rater"] if by_rater else [])
    return (df.groupby([*keys, "outcome"])["weight"].sum()
            .unstack("outcome", fill_value=0.0)
            .reindex(columns=list(OUTCOMES), fill_value=0.0)
            .sort_index())


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "unordered"])
@pytest.mark.parametrize("by_rater", [False, True], ids=["pairs", "by_rater"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_pair_counts_matches_groupby(path, ordered, by_rater, weighted):
    frame = labelled_frame(np.random.default_rng(7), 800, 12)
    data = ComparisonData.from_frame(frame, rater="rater",
                                     weight="weight" if weighted else None)
    pc = data.pair_counts(ordered=ordered, by_rater=by_rater, return_rows=True)
    expected = labelled_reference(frame, ordered, by_rater, weighted)
    got = pc.to_frame()
    keys = expected.index.to_frame(index=False)
    for column in keys.columns:
        assert list(got[column]) == list(keys[column])
    np.testing.assert_allclose(got[list(OUTCOMES)].to_numpy(), expected.to_numpy(),
                               rtol=SUM_RTOL, atol=0)
    np.testing.assert_allclose(pc.total, expected.sum(axis=1).to_numpy(), rtol=SUM_RTOL)
    # row_cell maps every source row to the cell holding its pair (and rater).
    cells = got.iloc[pc.row_cell].reset_index(drop=True)
    rows_lo = np.where(ordered, frame["item_a"], np.minimum(frame["item_a"], frame["item_b"]))
    rows_hi = np.where(ordered, frame["item_b"], np.maximum(frame["item_a"], frame["item_b"]))
    assert list(cells["item_a"]) == list(rows_lo)
    assert list(cells["item_b"]) == list(rows_hi)
    if by_rater:
        assert list(cells["rater"]) == list(frame["rater"])


def test_pair_counts_keeps_zero_weight_cells(path):
    frame = pd.DataFrame({"item_a": ["x", "y", "z"], "item_b": ["y", "z", "x"],
                          "outcome": ["a", "b", "tie"], "w": [0.0, 1.0, 0.0]})
    pc = ComparisonData.from_frame(frame, weight="w").pair_counts()
    got = pc.to_frame()
    assert set(zip(got.item_a, got.item_b)) == set(zip(frame.item_a, frame.item_b))
    np.testing.assert_array_equal(np.sort(pc.total), np.sort(frame.w.to_numpy()))


# ------------------------------------------------------------------ properties
@st.composite
def comparison_tables(draw, max_items=6, max_rows=40):
    n_items = draw(st.integers(2, max_items))
    labels = [f"i{k}" for k in range(n_items)]
    n_rows = draw(st.integers(1, max_rows))
    pairs = st.tuples(st.integers(0, n_items - 1), st.integers(1, n_items - 1))
    rows = draw(st.lists(st.tuples(pairs, st.sampled_from(OUTCOMES), st.sampled_from("pq")),
                         min_size=n_rows, max_size=n_rows))
    return pd.DataFrame({
        "item_a": [labels[i] for (i, _), _, _ in rows],
        "item_b": [labels[(i + d) % n_items] for (i, d), _, _ in rows],
        "outcome": [o for _, o, _ in rows],
        "rater": [r for _, _, r in rows],
    })


def canonical_cells(pc, relabel=None):
    """Multiset of unordered cells, oriented by label order: ((lo, hi[, rater]), counts)."""
    frame = pc.to_frame()
    if relabel is not None:
        frame[["item_a", "item_b"]] = frame[["item_a", "item_b"]].replace(relabel)
    cells = Counter()
    for row in frame.to_dict("records"):
        counts = {name: row[name] for name in OUTCOMES}
        a, b = row["item_a"], row["item_b"]
        if a > b:
            a, b = b, a
            counts = {SWAP[name]: value for name, value in counts.items()}
        key = (a, b, row.get("rater"))
        cells[(key, tuple(counts[name] for name in OUTCOMES))] += 1
    return cells


@HYPOTHESIS
@given(frame=comparison_tables(), data=st.data())
def test_relabelling_items(frame, data):
    labels = sorted(set(frame.item_a) | set(frame.item_b))
    permuted = data.draw(st.permutations(labels))
    new_name = {old: f"n{new}" for old, new in zip(labels, permuted)}
    relabelled = frame.assign(item_a=frame.item_a.map(new_name),
                              item_b=frame.item_b.map(new_name))
    for by_rater in (False, True):
        before = ComparisonData.from_frame(frame, rater="rater").pair_counts(
            ordered=False, by_rater=by_rater)
        after = ComparisonData.from_frame(relabelled, rater="rater").pair_counts(
            ordered=False, by_rater=by_rater)
        assert canonical_cells(before, relabel=new_name) == canonical_cells(after)


@HYPOTHESIS
@given(frame=comparison_tables(), seed=st.integers(0, 2**32 - 1))
def test_shuffling_rows(frame, seed):
    shuffled = frame.sample(frac=1.0, random_state=seed)
    for ordered in (True, False):
        before = ComparisonData.from_frame(frame, rater="rater").pair_counts(
            ordered=ordered, by_rater=True)
        after = ComparisonData.from_frame(shuffled, rater="rater").pair_counts(
            ordered=ordered, by_rater=True, return_rows=True)
        pd.testing.assert_frame_equal(before.to_frame(), after.to_frame())
        # each shuffled row still points at its own pair
        cells = after.to_frame().iloc[after.row_cell]
        lo = np.minimum(shuffled.item_a, shuffled.item_b)
        assert list(cells.item_a) == list(shuffled.item_a if ordered else lo)


@HYPOTHESIS
@given(frame=comparison_tables(), data=st.data())
def test_swapping_sides_and_flipping_outcome(frame, data):
    swap = np.array(data.draw(st.lists(st.booleans(), min_size=len(frame),
                                       max_size=len(frame))))
    swapped = swap_sides(frame, swap, "item_a", "item_b")
    swapped["outcome"] = swapped["outcome"].map(SWAP).where(swapped.pop("swapped"),
                                                            swapped["outcome"])
    before = ComparisonData.from_frame(frame, rater="rater").pair_counts(ordered=False)
    after = ComparisonData.from_frame(swapped, rater="rater").pair_counts(ordered=False)
    assert canonical_cells(before) == canonical_cells(after)
    pd.testing.assert_frame_equal(before.to_frame(), after.to_frame())


@HYPOTHESIS
@given(frame=comparison_tables())
def test_long_form_equals_preaggregated(frame):
    counted = (frame.groupby(["item_a", "item_b", "outcome", "rater"]).size()
               .rename("n").reset_index())
    long_form = ComparisonData.from_frame(frame, rater="rater")
    pre = ComparisonData.from_frame(counted, rater="rater", weight="n")
    assert pre.n_rows <= long_form.n_rows
    for ordered in (True, False):
        for by_rater in (False, True):
            pd.testing.assert_frame_equal(
                long_form.pair_counts(ordered=ordered, by_rater=by_rater).to_frame(),
                pre.pair_counts(ordered=ordered, by_rater=by_rater).to_frame(),
            )
    pd.testing.assert_series_equal(long_form.outcome_counts(), pre.outcome_counts())
