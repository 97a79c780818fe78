"""Identifiability analysis: components of the comparison and win graphs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefstat
from prefstat.diagnostics import connectivity
from prefstat.diagnostics.connectivity import order_levels
from tests.conftest import shared_file


def test_flatlizards_components_match_r():
    """R's refs.json lists the 4 connected components of the flatlizards contests."""
    ref = json.loads(shared_file("classic/refs.json").read_text())["models"]
    df = pd.read_csv(shared_file("classic/flatlizards/contests.csv"), dtype=str)
    data = pd.DataFrame({"item_a": df["winner"], "item_b": df["loser"], "outcome": "a"})
    result = connectivity(data)
    expected = sorted(sorted(c) for c in ref["flatlizards_bt_br"]["graph_components"])
    assert sorted(sorted(c) for c in result.components()) == expected
    assert result.n_components == 4
    assert not result.mle_exists
    # Every lizard that only won or only lost is listed.
    wins = data["item_a"].value_counts()
    losses = data["item_b"].value_counts()
    assert set(result.never_lose) == set(wins.index) - set(losses.index)
    assert set(result.never_win) == set(losses.index) - set(wins.index)


def test_strongly_connected_cycle():
    df = pd.DataFrame({"item_a": ["x", "y", "z"], "item_b": ["y", "z", "x"], "outcome": "a"})
    result = connectivity(df)
    assert result.connected and result.strongly_connected and result.mle_exists
    assert result.problem() is None
    assert "MLE exists" in str(result.summary())


def test_separable_groups_in_topological_order():
    # {x, y} beat {z, w} every time; each group is internally cyclic.
    df = pd.DataFrame({
        "item_a": ["x", "y", "z", "w", "x", "y"],
        "item_b": ["y", "x", "w", "z", "z", "w"],
        "outcome": "a",
    })
    result = connectivity(df)
    assert result.connected and not result.strongly_connected
    assert [sorted(c) for c in result.strong_components()] == [["x", "y"], ["w", "z"]]
    assert "won every comparison with the others" in result.problem()
    assert len(result.never_win) == 0 and len(result.never_lose) == 0


def test_ties_link_both_ways_and_zero_weights_do_not():
    df = pd.DataFrame({"item_a": ["x", "y"], "item_b": ["y", "z"], "outcome": ["tie", "tie"],
                       "w": [1.0, 1.0]})
    assert connectivity(df, weight="w").strongly_connected
    df.loc[1, "w"] = 0.0
    result = connectivity(df, weight="w")
    assert not result.connected
    assert list(result.isolated) == ["z"]


def test_isolated_items_from_the_item_list():
    df = pd.DataFrame({"item_a": ["x", "y"], "item_b": ["y", "x"], "outcome": ["a", "b"]})
    result = connectivity(df, items=["x", "y", "never"])
    assert list(result.isolated) == ["never"]
    assert result.n_components == 2
    assert "never compared" in result.problem()
    table = result.items
    assert table.loc["x", "comparisons"] == 2 and table.loc["x", "wins"] == 2


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from("ab")),
                min_size=1, max_size=30))
def test_strong_connectivity_matches_reachability(rows):
    rows = [r for r in rows if r[0] != r[1]]
    if len({x for r in rows for x in r[:2]}) < 2:
        return
    df = pd.DataFrame(rows, columns=["item_a", "item_b", "outcome"])
    result = connectivity(df)
    items = list(result.items.index)
    # Independent check: transitive closure of the win relation by repeated squaring.
    k = len(items)
    reach = np.eye(k, dtype=bool)
    for a, b, o in rows:
        w, l = (a, b) if o == "a" else (b, a)
        reach[items.index(w), items.index(l)] = True
    for _ in range(k):
        reach = reach | ((reach.astype(int) @ reach.astype(int)) > 0)
    assert result.strongly_connected == bool(reach.all())
    assert result.mle_exists == bool(reach.all())


def test_model_error_carries_the_analysis():
    df = pd.DataFrame({"item_a": ["x", "x"], "item_b": ["y", "z"], "outcome": "a"})
    with pytest.raises(prefstat.NotIdentifiableError) as err:
        prefstat.BradleyTerry().fit(df)
    assert list(err.value.connectivity.never_lose) == ["x"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=14))
def test_order_levels_match_the_rank_of_the_design(cells):
    """The order effect is confounded iff its column (all ones) lies in the span of the
    item-difference columns: an independent check by matrix rank."""
    cells = [c for c in cells if c[0] != c[1]]
    if not cells:
        return
    first, second = (np.array(x) for x in zip(*cells))
    x = np.zeros((len(cells), 7))
    x[np.arange(len(cells)), first] += 1.0
    x[np.arange(len(cells)), second] -= 1.0
    with_order = np.column_stack([x, np.ones(len(cells))])
    confounded = np.linalg.matrix_rank(with_order) == np.linalg.matrix_rank(x)
    level = order_levels(first, second, 7)
    assert (level is not None) == confounded
    if level is not None:
        assert (level[first] - level[second] == 1).all()


def test_order_levels_of_a_star_a_chain_and_a_cycle():
    # One item always shown first: two levels.
    assert order_levels(np.array([0, 0, 0]), np.array([1, 2, 3]), 4).tolist() == [0, -1, -1, -1]
    # A chain of first-shown items (layered design), plus a separate component.
    level = order_levels(np.array([0, 1, 3]), np.array([1, 2, 4]), 5)
    assert level.tolist() == [0, -1, -2, 0, -1]
    # A pair in both orders, or a cycle, identifies the order effect.
    assert order_levels(np.array([0, 1]), np.array([1, 0]), 2) is None
    assert order_levels(np.array([0, 1, 2]), np.array([1, 2, 0]), 3) is None
    # A chain with a shortcut: 0 is shown before 2, which sits two levels below it.
    assert order_levels(np.array([0, 1, 0]), np.array([1, 2, 2]), 3) is None


def test_summary_remedies_fit_the_failure():
    separable = connectivity(pd.DataFrame({"item_a": ["x", "x"], "item_b": ["y", "z"],
                                           "outcome": "a"}))
    assert "bias_reduction=True (finite" in str(separable.summary())
    split = connectivity(pd.DataFrame({"item_a": ["a", "b", "c", "d"],
                                       "item_b": ["b", "a", "d", "c"], "outcome": "a"}))
    text = str(split.summary())
    assert "fit each component separately" in text
    assert "bias_reduction=True does not bridge" in text
