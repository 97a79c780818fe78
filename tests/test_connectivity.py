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
