"""Tests for prefstat.datasets: the bundled citation table and the simulator.

Citation counts are checked against the published table (Stigler 1994, as printed in Agresti
2002, p. 448) and, where ../shared/data is present, against BradleyTerry2's export of it.
Simulation checks compare counts with closed forms computed here, independently of the
simulator's code, and state their tolerance in standard errors.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefstat
from prefstat import ComparisonData, InvalidParameterError
from prefstat.datasets import (
    PlantedCycle,
    SimulatedComparisons,
    load_citations,
    simulate_comparisons,
)

# Simulation checks pass when |observed - expected| <= Z_TOL standard errors of the count. The
# seeds are fixed, so each check is deterministic; 4 SE keeps the chance that a correct
# simulator fails one check under a different seed near 6e-5, while a wrong probability of
# even 0.02 at these sample sizes sits 5-10 SE away.
Z_TOL = 4.0
# Sums of centred floating-point strengths are zero up to rounding.
ROUNDING = 1e-12
# A Python loop over 10^6 rows takes over 10 s; the vectorised simulator takes about 0.2 s.
# 5 s separates the two even on a slow, loaded CI machine.
VECTORISED_BUDGET_S = 5.0

JOURNALS = ["Biometrika", "Comm Statist", "JASA", "JRSS-B"]
# Citations exchanged by each pair of journals, in either direction, from the table printed in
# Agresti (2002), p. 448 (row = cited, column = citing): e.g. Biometrika was cited 730 times by
# Comm Statist and Comm Statist 33 times by Biometrika, 763 in all.
PUBLISHED_PAIR_TOTALS = {
    ("Biometrika", "Comm Statist"): 730 + 33,
    ("Biometrika", "JASA"): 498 + 320,
    ("Biometrika", "JRSS-B"): 221 + 284,
    ("Comm Statist", "JASA"): 68 + 813,
    ("Comm Statist", "JRSS-B"): 17 + 276,
    ("JASA", "JRSS-B"): 142 + 325,
}
PUBLISHED_TOTAL = 3727  # 6 pairs; self-citations (714 + 425 + 1072 + 188) excluded


def logistic(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def davidson(s_a, s_b, reliability, shift, log_nu):
    """P(a), P(b), P(tie) in the pi/mu form of Davidson (1970) with an order effect."""
    pi_a, pi_b = np.exp(reliability * s_a), np.exp(reliability * s_b)
    mu, nu = np.exp(shift), math.exp(log_nu)
    tie = nu * np.sqrt(mu * pi_a * pi_b)
    total = mu * pi_a + pi_b + tie
    return mu * pi_a / total, pi_b / total, tie / total


def assert_count_close(hits, p, what: str) -> None:
    """Sum of independent Bernoulli(p_i) indicators within Z_TOL SE of its mean."""
    hits = np.asarray(hits, dtype=float)
    p = np.broadcast_to(np.asarray(p, dtype=float), hits.shape)
    expected = p.sum()
    se = math.sqrt(float((p * (1.0 - p)).sum()))
    z = (hits.sum() - expected) / se
    assert abs(z) <= Z_TOL, (
        f"{what}: observed {hits.sum():.0f}, expected {expected:.1f} (z = {z:.2f})"
    )


def strengths_of(sim: SimulatedComparisons, column: str) -> np.ndarray:
    return sim.truth["strength"].reindex(sim.data[column].astype(str)).to_numpy()


# ------------------------------------------------------------------------------- citations
def test_citations_matrix_matches_published_sums():
    m = load_citations("matrix")
    assert m.shape == (4, 4)
    assert list(m.index) == JOURNALS
    assert list(m.columns) == JOURNALS
    assert (np.diag(m.to_numpy()) == 0).all()
    assert int(m.to_numpy().sum()) == PUBLISHED_TOTAL
    for (i, j), total in PUBLISHED_PAIR_TOTALS.items():
        assert m.loc[i, j] + m.loc[j, i] == total, (i, j)
    # Rows beat columns: Comm Statist was cited 33 times by Biometrika.
    assert m.loc["Comm Statist", "Biometrika"] == 33
    assert m.loc["Biometrika", "Comm Statist"] == 730


def test_citations_comparisons_table():
    df = load_citations()
    assert list(df.columns) == ["item_a", "item_b", "outcome", "weight"]
    assert len(df) == 12
    assert set(df["outcome"]) == {"a", "b"}
    assert int(df["weight"].sum()) == PUBLISHED_TOTAL
    totals = df.groupby(["item_a", "item_b"])["weight"].sum()
    assert {k: int(v) for k, v in totals.items()} == PUBLISHED_PAIR_TOTALS

    data = ComparisonData.from_frame(df, weight="weight")
    assert list(data.items) == JOURNALS
    counts = data.pair_counts(ordered=False).to_frame()
    m = load_citations("matrix")
    for row in counts.itertuples():
        assert row.a == m.loc[row.item_a, row.item_b]
        assert row.b == m.loc[row.item_b, row.item_a]
    assert counts["tie"].sum() == 0


def test_citations_agree_with_bradleyterry2_export(shared):
    counts = pd.read_csv(shared("classic/citations/citations_counts.csv"))
    m = load_citations("matrix")
    off_diagonal = counts[counts["cited"] != counts["citing"]]
    assert len(off_diagonal) == 12
    for row in off_diagonal.itertuples():
        assert m.loc[row.cited, row.citing] == row.count, (row.cited, row.citing)

    pairs = pd.read_csv(shared("classic/citations/comparisons.csv"))
    ours = load_citations().pivot(index=["item_a", "item_b"], columns="outcome", values="weight")
    for row in pairs.itertuples():
        assert ours.loc[(row.journal_a, row.journal_b), "a"] == row.wins_a
        assert ours.loc[(row.journal_a, row.journal_b), "b"] == row.wins_b


def test_citations_are_fresh_copies():
    m = load_citations("matrix")
    m.iloc[0, 1] = -1
    assert load_citations("matrix").iloc[0, 1] == 730


def test_citations_unknown_kind():
    with pytest.raises(InvalidParameterError, match="kind must be 'comparisons' or 'matrix'"):
        load_citations("square")


# ------------------------------------------------------------------- simulator: structure
def test_simulation_is_reproducible_and_seed_dependent():
    kwargs = dict(n_items=8, n_comparisons=500, n_raters=5, tie_parameter=0.0, flip_rate=0.1,
                  rater_reliability_sd=0.5, rater_bias_sd=0.5)
    one = simulate_comparisons(random_state=7, **kwargs)
    two = simulate_comparisons(random_state=7, **kwargs)
    gen = simulate_comparisons(random_state=np.random.default_rng(7), **kwargs)
    for other in (two, gen):
        pd.testing.assert_frame_equal(one.data, other.data)
        pd.testing.assert_frame_equal(one.truth, other.truth)
        pd.testing.assert_frame_equal(one.raters, other.raters)
        np.testing.assert_array_equal(one.flipped, other.flipped)
    three = simulate_comparisons(random_state=8, **kwargs)
    assert not one.data.equals(three.data)
    assert not np.allclose(one.truth["strength"], three.truth["strength"])


def test_simulation_leaves_global_random_state_alone():
    # The legacy global generator is what must stay untouched, so this test reads it.
    before = np.random.get_state()  # noqa: NPY002
    simulate_comparisons(n_comparisons=100, random_state=None)
    simulate_comparisons(n_comparisons=100, random_state=3)
    after = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


def test_effect_sizes_share_random_numbers():
    base = simulate_comparisons(n_items=6, n_comparisons=300, random_state=4)
    shifted = simulate_comparisons(n_items=6, n_comparisons=300, random_state=4,
                                   order_effect=0.5, n_raters=3, prompts=4)
    pd.testing.assert_frame_equal(base.data[["item_a", "item_b"]],
                                  shifted.data[["item_a", "item_b"]])
    pd.testing.assert_frame_equal(base.truth, shifted.truth)


def test_simulated_table_is_canonical():
    sim = simulate_comparisons(n_items=12, n_comparisons=3000, n_raters=7, prompts=5,
                               tie_parameter=-0.5, random_state=0)
    df = sim.data
    assert list(df.columns) == ["item_a", "item_b", "outcome", "rater", "prompt"]
    assert len(df) == 3000
    assert (df["item_a"].astype(str) != df["item_b"].astype(str)).all()
    assert set(df["outcome"]) <= {"a", "b", "tie"}
    assert list(sim.truth.index) == [f"item{k:02d}" for k in range(12)]
    assert list(sim.raters.index) == [f"rater{k:03d}" for k in range(7)]
    assert sorted(set(df["prompt"].astype(str))) == [f"prompt{k:03d}" for k in range(5)]
    assert sim.flipped.dtype == bool and sim.flipped.shape == (3000,)
    assert sim.cycle is None
    assert sim.params["tie_parameter"] == -0.5 and sim.params["random_state"] == 0

    data = ComparisonData.from_frame(df, rater="rater")
    assert list(data.items) == list(sim.truth.index)
    assert data.n_raters == 7
    assert list(data.contest.columns) == ["prompt"]
    pd.testing.assert_series_equal(
        data.outcome_counts(),
        df["outcome"].astype(str).value_counts().reindex(list(prefstat.OUTCOMES), fill_value=0)
        .astype(float).rename("weight").rename_axis(None),
    )


def test_truth_is_centred_and_ranked():
    sim = simulate_comparisons(n_items=30, n_comparisons=10, strength_sd=2.0, random_state=2)
    strength = sim.truth["strength"]
    assert abs(strength.sum()) < ROUNDING
    assert sorted(sim.truth["rank"]) == list(range(1, 31))
    by_rank = strength.sort_values(ascending=False)
    assert list(sim.truth.loc[by_rank.index, "rank"]) == list(range(1, 31))


def test_labels_are_zero_padded_so_they_sort():
    sim = simulate_comparisons(n_items=120, n_comparisons=10, n_raters=1500, random_state=0)
    assert sim.truth.index[0] == "item000" and sim.truth.index[-1] == "item119"
    assert sim.raters.index[0] == "rater0000" and sim.raters.index[-1] == "rater1499"
    assert list(sim.truth.index) == sorted(sim.truth.index)


def test_prompt_labels_given_explicitly():
    sim = simulate_comparisons(n_comparisons=200, prompts=["p", "q"], random_state=0)
    assert set(sim.data["prompt"].astype(str)) == {"p", "q"}


def test_no_raters_gives_an_empty_rater_table():
    sim = simulate_comparisons(n_comparisons=50, random_state=0)
    assert "rater" not in sim.data.columns
    assert list(sim.raters.columns) == ["reliability", "position_bias", "is_spammer",
                                        "is_biased"]
    assert len(sim.raters) == 0
    assert repr(sim) == (
        "SimulatedComparisons(n_items=20, n_comparisons=50, n_raters=0, model='bt')"
    )


def test_million_comparisons_are_fast():
    start = time.perf_counter()
    sim = simulate_comparisons(n_comparisons=1_000_000, n_raters=100, tie_parameter=0.0,
                               flip_rate=0.05, intransitive_cluster=4, prompts=50,
                               random_state=0)
    assert time.perf_counter() - start < VECTORISED_BUDGET_S
    assert len(sim.data) == 1_000_000


@settings(max_examples=30, deadline=None)
@given(
    n_items=st.integers(2, 15),
    n_comparisons=st.integers(1, 200),
    n_raters=st.integers(0, 6),
    ties=st.one_of(st.none(), st.floats(-3, 3)),
    flip_rate=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_valid_call_gives_a_canonical_table(n_items, n_comparisons, n_raters, ties,
                                                 flip_rate, seed):
    sim = simulate_comparisons(n_items, n_comparisons, n_raters, tie_parameter=ties,
                               flip_rate=flip_rate, n_spammers=n_raters // 2,
                               intransitive_cluster=3 if n_items >= 3 else None,
                               random_state=seed)
    assert len(sim.data) == n_comparisons == sim.flipped.size
    assert len(sim.raters) == n_raters
    assert set(sim.data["item_a"].astype(str)) <= set(sim.truth.index)
    assert (sim.data["item_a"].astype(str) != sim.data["item_b"].astype(str)).all()
    if ties is None:
        assert not (sim.data["outcome"] == "tie").any()
    if n_items == 2 and n_comparisons < 2:
        return  # one comparison may show a single pair; from_frame still needs two items
    data = ComparisonData.from_frame(sim.data, rater="rater" if n_raters else None)
    assert data.n_rows == n_comparisons


# -------------------------------------------------------------- simulator: probabilities
def test_two_item_win_rate_is_logistic():
    sim = simulate_comparisons(n_items=2, n_comparisons=20_000, random_state=11)
    s = sim.truth["strength"]
    first_won = (sim.data["item_a"] == "item00") == (sim.data["outcome"] == "a")
    assert_count_close(first_won, logistic(s["item00"] - s["item01"]), "item00 wins")
    assert_count_close(sim.data["item_a"] == "item00", 0.5, "item00 shown first")


def test_two_item_win_rate_is_normal_cdf_for_thurstone():
    sim = simulate_comparisons(n_items=2, n_comparisons=20_000, model="thurstone",
                               random_state=12)
    s = sim.truth["strength"]
    item00_won = (sim.data["item_a"] == "item00") == (sim.data["outcome"] == "a")
    assert_count_close(item00_won, normal_cdf(s["item00"] - s["item01"]), "item00 wins")


def test_order_effect_favours_the_first_shown_item():
    h = 0.7
    sim = simulate_comparisons(n_items=2, n_comparisons=40_000, order_effect=h,
                               random_state=13)
    s = sim.truth["strength"]
    for first, second in (("item00", "item01"), ("item01", "item00")):
        rows = sim.data["item_a"] == first
        won = sim.data.loc[rows, "outcome"] == "a"
        assert_count_close(won, logistic(s[first] - s[second] + h), f"{first} shown first")


def test_tie_rate_follows_davidson():
    log_nu, h = math.log(0.8), 0.3
    sim = simulate_comparisons(n_items=2, n_comparisons=40_000, tie_parameter=log_nu,
                               order_effect=h, random_state=14)
    p_a, p_b, p_tie = davidson(strengths_of(sim, "item_a"), strengths_of(sim, "item_b"),
                               1.0, h, log_nu)
    outcome = sim.data["outcome"]
    assert_count_close(outcome == "tie", p_tie, "ties")
    assert_count_close(outcome == "a", p_a, "first-shown wins")
    assert_count_close(outcome == "b", p_b, "second-shown wins")


def test_every_row_follows_the_documented_model():
    log_nu, h = 0.2, -0.4
    sim = simulate_comparisons(n_items=15, n_comparisons=50_000, n_raters=20,
                               tie_parameter=log_nu, order_effect=h, rater_reliability_sd=0.5,
                               rater_bias_sd=0.4, n_spammers=3, n_biased_raters=3,
                               strength_sd=1.5, random_state=15)
    raters = sim.raters.reindex(sim.data["rater"].astype(str))
    p_a, _, p_tie = davidson(strengths_of(sim, "item_a"), strengths_of(sim, "item_b"),
                             raters["reliability"].to_numpy(),
                             h + raters["position_bias"].to_numpy(), log_nu)
    assert_count_close(sim.data["outcome"] == "a", p_a, "first-shown wins")
    assert_count_close(sim.data["outcome"] == "tie", p_tie, "ties")


def test_spammers_agree_with_truth_at_chance_and_good_raters_often():
    sim = simulate_comparisons(n_items=10, n_comparisons=30_000, n_raters=10, n_spammers=3,
                               strength_sd=2.0, random_state=16)
    assert sim.raters["is_spammer"].sum() == 3
    assert (sim.raters.loc[sim.raters["is_spammer"], "reliability"] == 0).all()
    assert (sim.raters.loc[~sim.raters["is_spammer"], "reliability"] == 1).all()

    s_a, s_b = strengths_of(sim, "item_a"), strengths_of(sim, "item_b")
    agrees = (s_a > s_b) == (sim.data["outcome"] == "a").to_numpy()
    spam = sim.raters["is_spammer"].reindex(sim.data["rater"].astype(str)).to_numpy()
    assert_count_close(agrees[spam], 0.5, "spammers agreeing with the better item")
    p_good = logistic(np.abs(s_a - s_b)[~spam])
    assert_count_close(agrees[~spam], p_good, "good raters agreeing with the better item")
    # the contrast the test is about: good raters sit far above chance, spammers at it
    good = agrees[~spam]
    assert good.mean() > 0.5 + Z_TOL * math.sqrt(0.25 / good.size)


def test_biased_raters_favour_the_first_item():
    effect = 2.0
    sim = simulate_comparisons(n_items=5, n_comparisons=20_000, n_raters=6, n_biased_raters=2,
                               biased_rater_effect=effect, strength_sd=0.0, random_state=17)
    biased = sim.raters["is_biased"]
    assert biased.sum() == 2 and not sim.raters["is_spammer"].any()
    assert (sim.raters.loc[biased, "position_bias"] == effect).all()
    assert (sim.raters.loc[~biased, "position_bias"] == 0).all()
    by_biased = biased.reindex(sim.data["rater"].astype(str)).to_numpy()
    first_won = (sim.data["outcome"] == "a").to_numpy()
    assert_count_close(first_won[by_biased], logistic(effect), "biased raters")
    assert_count_close(first_won[~by_biased], 0.5, "unbiased raters, equal strengths")


def test_flip_rate_is_as_asked():
    rate = 0.2
    clean = simulate_comparisons(n_comparisons=20_000, random_state=18)
    noisy = simulate_comparisons(n_comparisons=20_000, flip_rate=rate, random_state=18)
    assert not clean.flipped.any()
    assert_count_close(noisy.flipped, rate, "flipped labels")
    before = clean.data["outcome"].astype(str).to_numpy()
    after = noisy.data["outcome"].astype(str).to_numpy()
    np.testing.assert_array_equal(after == before, ~noisy.flipped)
    assert set(before[noisy.flipped]) == {"a", "b"}


def test_ties_are_never_flipped():
    sim = simulate_comparisons(n_comparisons=20_000, flip_rate=0.3, tie_parameter=0.5,
                               random_state=19)
    decisive = (sim.data["outcome"] != "tie").to_numpy()
    assert not sim.flipped[~decisive].any()
    assert_count_close(sim.flipped[decisive], 0.3, "flipped among decisive rows")


def test_planted_three_cycle_is_a_cycle():
    effect = 1.0
    sim = simulate_comparisons(n_items=3, n_comparisons=30_000, intransitive_cluster=3,
                               cycle_effect=effect, random_state=20)
    cycle = sim.cycle
    assert isinstance(cycle, PlantedCycle)
    assert sorted(cycle.items) == ["item00", "item01", "item02"]
    ranks = sim.truth.loc[list(cycle.items), "rank"].tolist()
    assert ranks == [1, 2, 3]  # strongest first
    pairs = cycle.pairs
    assert pairs["winner"].tolist() == list(cycle.items)
    assert pairs["loser"].tolist() == list(cycle.items[1:] + cycle.items[:1])
    np.testing.assert_allclose(pairs["p_win"], logistic(effect))

    a, b = sim.data["item_a"].astype(str), sim.data["item_b"].astype(str)
    a_won = sim.data["outcome"] == "a"
    for winner, loser in zip(pairs["winner"], pairs["loser"], strict=True):
        rows = ((a == winner) & (b == loser)) | ((a == loser) & (b == winner))
        winner_won = (a[rows] == winner) == a_won[rows]
        assert_count_close(winner_won, logistic(effect), f"{winner} over {loser}")
        # the data show each edge the cyclic way, well beyond sampling error
        n = int(rows.sum())
        assert winner_won.mean() > 0.5 + Z_TOL * math.sqrt(0.25 / n)


def test_planted_four_cycle_keeps_other_pairs():
    sim = simulate_comparisons(n_items=10, n_comparisons=200_000, intransitive_cluster=4,
                               random_state=21)
    items = list(sim.cycle.items)
    assert sim.truth.loc[items, "rank"].tolist() == [4, 5, 6, 7]  # around the median
    s = sim.truth["strength"]
    a, b = sim.data["item_a"].astype(str), sim.data["item_b"].astype(str)
    a_won = sim.data["outcome"] == "a"
    for i, j in ((0, 2), (1, 3)):  # the diagonals are not planted
        rows = ((a == items[i]) & (b == items[j])) | ((a == items[j]) & (b == items[i]))
        i_won = (a[rows] == items[i]) == a_won[rows]
        assert_count_close(i_won, logistic(s[items[i]] - s[items[j]]), "diagonal")
    for k in range(4):  # the edges are
        w, l_ = items[k], items[(k + 1) % 4]
        rows = ((a == w) & (b == l_)) | ((a == l_) & (b == w))
        assert_count_close((a[rows] == w) == a_won[rows], logistic(1.0), "edge")


# ------------------------------------------------------------------ simulator: arguments
@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_items": 1}, "n_items"),
        ({"n_items": 2.5}, "n_items"),
        ({"n_items": True}, "n_items"),
        ({"n_comparisons": 0}, "n_comparisons"),
        ({"n_raters": -1}, "n_raters"),
        ({"n_raters": 2, "n_spammers": 2, "n_biased_raters": 1}, "n_spammers"),
        ({"n_spammers": 1}, "n_raters"),
        ({"strength_sd": -1.0}, "strength_sd"),
        ({"rater_bias_sd": float("nan")}, "rater_bias_sd"),
        ({"order_effect": float("inf")}, "order_effect"),
        ({"flip_rate": 1.5}, "flip_rate"),
        ({"model": "logit"}, "model"),
        ({"tie_parameter": "big"}, "tie_parameter"),
        ({"model": "thurstone", "tie_parameter": 0.0}, "tie_parameter"),
        ({"intransitive_cluster": 2}, "intransitive_cluster"),
        ({"n_items": 4, "intransitive_cluster": 5}, "intransitive_cluster"),
        ({"cycle_effect": 0.0}, "cycle_effect"),
        ({"prompts": 0}, "prompts"),
        ({"prompts": "abc"}, "prompts"),
        ({"prompts": ["p", "p"]}, "prompts"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(InvalidParameterError, match=name) as info:
        simulate_comparisons(**kwargs)
    assert isinstance(info.value, ValueError)
