"""Bootstrap by reweighted pair counts: closed forms, Wald SEs, explicit resampling, errors.

Monte Carlo tolerances. The standard deviation of B replicates estimates the
bootstrap SE with a relative standard error of about 1 / sqrt(2 (B - 1))
(normal approximation); two independent such estimates differ by a relative
standard error of about 1 / sqrt(B). Simulation checks allow ``MC_Z`` of those
standard errors, with fixed seeds, so a pass is deterministic and a failure
means more than bad luck.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import prefstat
from prefstat.models import BootstrapResult

MC_Z = 4.0  # Monte Carlo allowance, in Monte Carlo standard errors
EXACT_TOL = 1e-8  # reweighted-counts refit vs a fresh fit of the resampled rows (solver precision)
# Bootstrap SD and delta-method SE of a logit differ by O(1 / (n p (1 - p))) beyond Monte
# Carlo error; at n p (1 - p) = 240 the exact enumeration below puts it under 0.5%.
DELTA_APPROX_TOL = 0.01


def sd_rel_mc(n_boot: int) -> float:
    """Relative Monte Carlo standard error of a bootstrap SD from ``n_boot`` replicates."""
    return 1.0 / np.sqrt(2.0 * (n_boot - 1))


def simulate(n_items=8, n=4000, seed=0, spread=1.0, ties=None, order=0.0, link="logit"):
    """Independent generator: BT / Thurstone, Davidson ties, first-shown advantage."""
    rng = np.random.default_rng(seed)
    s = spread * rng.normal(size=n_items)
    s -= s.mean()
    a = rng.integers(0, n_items, n)
    b = (a + rng.integers(1, n_items, n)) % n_items
    d = s[a] - s[b] + order
    if ties is None:
        p = special.expit(d) if link == "logit" else stats.norm.cdf(d)
        outcome = np.where(rng.random(n) < p, "a", "b")
    else:
        pa, pb, pt = np.exp(d / 2), np.exp(-d / 2), np.exp(ties) * np.ones(n)
        u = rng.random(n) * (pa + pb + pt)
        outcome = np.where(u < pa, "a", np.where(u < pa + pb, "b", "tie"))
    labels = np.array([f"i{k:02d}" for k in range(n_items)])
    return pd.DataFrame({"item_a": labels[a], "item_b": labels[b], "outcome": outcome})


# ------------------------------------------------------------- (1) closed form
def test_two_items_sd_matches_delta_method():
    """x beats y 600 times in 1000: the log-odds is logit(600/1000), its SE 1/sqrt(npq).

    A judgement bootstrap draws the number of x's wins from Binomial(1000, 0.6), so the
    bootstrap SD of the log-odds is also known exactly, by enumeration.
    """
    wins, n, n_boot = 600, 1000, 4000
    df = pd.DataFrame({"item_a": ["x", "x"], "item_b": ["y", "y"], "outcome": ["a", "b"],
                       "w": [wins, n - wins]})
    model = prefstat.BradleyTerry(reference="y").fit(df, weight="w")
    boot = model.bootstrap(df, n_boot=n_boot, random_state=11, weight="w")
    p = wins / n
    delta_se = 1 / np.sqrt(n * p * (1 - p))
    k = np.arange(1, n)
    pmf = stats.binom.pmf(k, n, p)
    logit = special.logit(k / n)
    exact_sd = np.sqrt(pmf @ (logit - pmf @ logit) ** 2)
    assert exact_sd / delta_se == pytest.approx(1.0, abs=DELTA_APPROX_TOL)
    sd = boot.strengths.loc["x", "se"]
    assert sd / exact_sd == pytest.approx(1.0, abs=MC_Z * sd_rel_mc(n_boot))
    assert sd / delta_se == pytest.approx(1.0, abs=MC_Z * sd_rel_mc(n_boot) + DELTA_APPROX_TOL)
    # The reference item is fixed at 0 in every replicate; the estimate is the MLE.
    assert np.all(boot.replicates[:, 1] == 0.0)
    assert boot.strengths.loc["x", "estimate"] == pytest.approx(special.logit(p), abs=1e-12)
    assert boot.n_failed == 0


# --------------------------------------------------------- (2) Wald agreement
# At n_boot = 400 a bootstrap SD has a relative Monte Carlo SE of 3.5%; at 4000
# judgements over 8 items the bootstrap and Wald SEs differ by O(1/n) beyond that
# (about 1%). 15% is MC_Z Monte Carlo SEs plus that.
WALD_REL_TOL = MC_Z * sd_rel_mc(400) + 0.01


@pytest.mark.parametrize("model, sim", [
    (prefstat.BradleyTerry(), {}),
    (prefstat.BradleyTerry(reference="i03"), {}),
    (prefstat.Thurstone(), {"link": "probit", "spread": 0.6}),
    (prefstat.BradleyTerry(ties="davidson", order_effect=True), {"ties": -0.5, "order": 0.3}),
], ids=["bt", "bt-reference", "thurstone", "davidson-order"])
def test_bootstrap_se_agree_with_wald(model, sim):
    df = simulate(seed=3, **sim)
    model.fit(df)
    boot = model.bootstrap(df, n_boot=400, random_state=5)
    assert boot.n_failed == 0
    wald = model.params_
    pd.testing.assert_index_equal(boot.params.index, wald.index)
    assert list(boot.params.columns) == ["estimate", "se", "ci_lower", "ci_upper"]
    np.testing.assert_array_equal(boot.params["estimate"], wald["estimate"])
    free = wald["se"] > 0  # a reference item has SE 0 in both
    ratio = boot.params.loc[free, "se"] / wald.loc[free, "se"]
    assert np.all(np.abs(ratio - 1) < WALD_REL_TOL), ratio
    assert np.all(boot.params.loc[~free, "se"] == 0)
    inside = (boot.params["ci_lower"] <= boot.params["estimate"]) & \
        (boot.params["estimate"] <= boot.params["ci_upper"])
    assert inside.all()


# ------------------------------------------------------------ (3) clustering
# Two independent SD estimates from B replicates each: relative MC SE 1 / sqrt(B).
CLUSTER_BOOT = 1000
CLUSTER_REL_TOL = MC_Z / np.sqrt(CLUSTER_BOOT)


@pytest.mark.slow
def test_one_cluster_per_row_is_the_row_bootstrap_in_distribution():
    df = simulate(n_items=6, n=1500, seed=4).assign(row_id=np.arange(1500))
    model = prefstat.BradleyTerry().fit(df)
    rows = model.bootstrap(df, n_boot=CLUSTER_BOOT, random_state=1)
    clustered = model.bootstrap(df, n_boot=CLUSTER_BOOT, cluster="row_id", random_state=2)
    assert clustered.cluster == "row_id" and clustered.n_units == 1500
    ratio = clustered.strengths["se"] / rows.strengths["se"]
    assert np.all(np.abs(ratio - 1) < CLUSTER_REL_TOL), ratio
    # Means agree within MC error of a mean (SD / sqrt(B) each).
    gap = np.nanmean(clustered.replicates, axis=0) - np.nanmean(rows.replicates, axis=0)
    mc = rows.params["se"].to_numpy() * np.sqrt(2 / CLUSTER_BOOT)
    assert np.all(np.abs(gap) <= MC_Z * mc)


@pytest.mark.slow
def test_strongly_clustered_data_widen_by_sqrt_k():
    """Every judgement copied k times: a cluster is k identical rows.

    Resampling clusters of k copies scales the counts of a row bootstrap of the
    original table by k, which leaves every estimate unchanged, so the clustered
    replicates equal those of the original table with one cluster per row, exactly.
    Resampling the copies as independent judgements instead shrinks SEs by sqrt(k).
    """
    k = 4
    df = simulate(n_items=6, n=1000, seed=6).assign(row_id=np.arange(1000))
    dup = df.iloc[np.repeat(np.arange(len(df)), k)].reset_index(drop=True)
    model_dup = prefstat.BradleyTerry().fit(dup)
    clustered = model_dup.bootstrap(dup, n_boot=CLUSTER_BOOT, cluster="row_id",
                                    random_state=7)
    naive = model_dup.bootstrap(dup, n_boot=CLUSTER_BOOT, random_state=8)
    ratio = clustered.strengths["se"] / naive.strengths["se"]
    assert np.all(np.abs(ratio / np.sqrt(k) - 1) < CLUSTER_REL_TOL), ratio
    original = prefstat.BradleyTerry().fit(df).bootstrap(
        df, n_boot=CLUSTER_BOOT, cluster="row_id", random_state=7)
    np.testing.assert_allclose(clustered.replicates, original.replicates, rtol=0,
                               atol=EXACT_TOL)


# ---------------------------------------------------------- (4) reproducible
def test_fixed_seed_reproduces_and_global_state_is_untouched():
    df = simulate(n_items=5, n=800, seed=9)
    model = prefstat.BradleyTerry().fit(df)
    # The legacy global generator must be left alone (random_state is the only source).
    np.random.seed(123)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    one = model.bootstrap(df, n_boot=30, random_state=42)
    two = model.bootstrap(df, n_boot=30, random_state=np.random.default_rng(42))
    np.testing.assert_array_equal(one.replicates, two.replicates)
    pd.testing.assert_frame_equal(one.params, two.params)
    pd.testing.assert_frame_equal(one.ranks, two.ranks)
    other = model.bootstrap(df, n_boot=30, random_state=43)
    assert not np.array_equal(one.replicates, other.replicates)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


# ----------------------------------------------------------------- (5) ranks
def test_rank_intervals_contain_point_rank_and_pin_a_dominant_item():
    """'top' beats everyone about 97% of the time; the rest are close together."""
    df = simulate(n_items=6, n=3000, seed=10, spread=0.3)
    rng = np.random.default_rng(10)
    others = np.array([f"i{k:02d}" for k in range(6)])
    m = 1500
    opp = others[rng.integers(0, 6, m)]
    won = rng.random(m) < special.expit(3.5)
    df = pd.concat([df, pd.DataFrame({"item_a": "top", "item_b": opp,
                                      "outcome": np.where(won, "a", "b")})],
                   ignore_index=True)
    model = prefstat.BradleyTerry().fit(df)
    boot = model.bootstrap(df, n_boot=300, random_state=3)
    ranks = boot.ranks
    assert list(ranks.columns) == ["rank", "rank_lower", "rank_upper"]
    assert (ranks["rank_lower"] <= ranks["rank"]).all()
    assert (ranks["rank"] <= ranks["rank_upper"]).all()
    assert ranks.loc["top"].tolist() == [1, 1, 1]
    # The point ranks order the estimates (1 = strongest), checked by sorting.
    order = model.strengths_["estimate"].sort_values(ascending=False).index
    assert ranks.loc[order, "rank"].tolist() == list(range(1, 8))
    # Rank intervals from an independent ranking of the replicates (double argsort).
    reps = boot.replicates[:, :7]
    rep_ranks = np.argsort(np.argsort(-reps, axis=1), axis=1) + 1
    tail = (1 - boot.conf_level) / 2
    for j, item in enumerate(model.items_):
        share_below = np.mean(rep_ranks[:, j] < ranks.loc[item, "rank_lower"])
        share_above = np.mean(rep_ranks[:, j] > ranks.loc[item, "rank_upper"])
        assert share_below < tail and share_above <= tail


# ------------------------------------------- (6) explicit resampling of rows
@pytest.mark.parametrize("model", [
    prefstat.BradleyTerry(),
    prefstat.BradleyTerry(reference="i01", order_effect=True),
    prefstat.BradleyTerry(ties="davidson"),
    prefstat.BradleyTerry(tie_handling="half", bias_reduction=True),
    prefstat.Thurstone(tie_handling="half"),
], ids=["bt", "bt-order-reference", "davidson", "half-firth", "thurstone-half"])
def test_reweighted_counts_equal_refitting_resampled_rows(model):
    """The cluster bootstrap's documented draw, replayed by hand on the raw rows.

    With one cluster per row, replicate b draws ``multinomial(G, 1/G)`` over the rows;
    the rows are then resampled explicitly and fitted from scratch by a fresh model.
    """
    ties = None if model.ties is None and model.tie_handling is None else -1.0
    df = simulate(n_items=5, n=600, seed=12, ties=ties, order=0.2).assign(row_id=np.arange(600))
    model.fit(df)
    n_boot = 4
    boot = model.bootstrap(df, n_boot=n_boot, cluster="row_id", random_state=21)
    rng = np.random.default_rng(21)
    for b in range(n_boot):
        times = rng.multinomial(len(df), np.full(len(df), 1 / len(df)))
        resampled = df.iloc[np.repeat(np.arange(len(df)), times)]
        fresh = type(model)(**model.get_params()).fit(resampled)
        np.testing.assert_allclose(boot.replicates[b], fresh.params_["estimate"], rtol=0,
                                   atol=EXACT_TOL)


def test_aggregated_table_gives_the_same_replicates_as_one_row_per_judgement():
    """A row of weight w stands for w judgements: aggregating changes no replicate."""
    df = simulate(n_items=5, n=700, seed=13)
    agg = df.groupby(["item_a", "item_b", "outcome"]).size().rename("n").reset_index()
    agg = agg[agg["n"] > 0].sample(frac=1.0, random_state=0)  # any row order
    by_row = prefstat.BradleyTerry().fit(df).bootstrap(df, n_boot=20, random_state=5)
    weighted = prefstat.BradleyTerry().fit(agg, weight="n").bootstrap(
        agg, n_boot=20, random_state=5, weight="n")
    np.testing.assert_allclose(weighted.replicates, by_row.replicates, rtol=0, atol=EXACT_TOL)
    assert weighted.n_units == by_row.n_units == 700


def test_failed_replicates_are_exactly_the_unfittable_resamples():
    """A sparse cycle: many resamples lose a win. Those, and only those, fail."""
    df = pd.DataFrame({"item_a": ["x", "x", "x", "y", "y", "y", "z", "z", "z", "x"],
                       "item_b": ["y", "y", "y", "z", "z", "z", "x", "x", "x", "z"],
                       "outcome": ["a", "a", "b", "a", "a", "b", "a", "a", "b", "a"]})
    df["row_id"] = np.arange(len(df))
    model = prefstat.BradleyTerry().fit(df)
    n_boot = 40
    with pytest.warns(prefstat.IdentifiabilityWarning, match="replicates failed"):
        boot = model.bootstrap(df, n_boot=n_boot, cluster="row_id", random_state=2)
    failed = np.isnan(boot.replicates).any(axis=1)
    assert 0 < boot.n_failed == failed.sum() < n_boot
    assert boot.failures["not identifiable"] == boot.n_failed
    rng = np.random.default_rng(2)
    for b in range(n_boot):
        times = rng.multinomial(len(df), np.full(len(df), 1 / len(df)))
        resampled = df.iloc[np.repeat(np.arange(len(df)), times)]
        if failed[b]:
            with pytest.raises(prefstat.NotIdentifiableError):
                prefstat.BradleyTerry().fit(resampled, items=list(model.items_))
        else:
            fresh = prefstat.BradleyTerry().fit(resampled)
            np.testing.assert_allclose(boot.replicates[b], fresh.params_["estimate"],
                                       rtol=0, atol=EXACT_TOL)
    ok = boot.replicates[~failed]
    np.testing.assert_allclose(boot.params["se"], ok.std(axis=0, ddof=1), rtol=1e-12)
    text = str(boot.summary())
    assert f"{boot.n_failed} of {n_boot} replicates failed" in text


# ------------------------------------------------------------ summary, types
def test_result_and_summary():
    df = prefstat.datasets.load_citations()
    model = prefstat.BradleyTerry(reference="JASA", order_effect=False).fit(df, weight="weight")
    boot = model.bootstrap(df, n_boot=50, random_state=0, conf_level=0.9, weight="weight")
    assert isinstance(boot, BootstrapResult)
    assert boot.conf_level == 0.9 and boot.cluster is None and boot.n_units == 3727
    assert boot.replicates.shape == (50, 4)
    assert boot.strengths.index.name == "item"
    assert list(boot.strengths.index) == list(model.items_)
    summary = boot.summary()
    assert "strength of 'JASA' fixed at 0" in str(summary)
    assert "<table>" in summary._repr_html_()
    pd.testing.assert_frame_equal(summary.tables["Ranks"], boot.ranks)
    assert "n_boot=50" in repr(boot)


@pytest.mark.parametrize("cluster, n_clusters", [("judge", 30), ("prompt", 90)])
def test_comparison_data_input_clusters_by_rater_or_contest_column(cluster, n_clusters):
    df = simulate(n_items=5, n=900, seed=14)
    df["judge"] = np.repeat([f"r{k}" for k in range(30)], 30)
    df["prompt"] = np.tile(np.arange(90), 10)
    data = prefstat.ComparisonData.from_frame(df, rater="judge")
    model = prefstat.BradleyTerry().fit(data)
    from_data = model.bootstrap(data, n_boot=10, cluster=cluster, random_state=1)
    from_frame = model.bootstrap(df, n_boot=10, cluster=cluster, random_state=1)
    np.testing.assert_array_equal(from_data.replicates, from_frame.replicates)
    assert from_data.n_units == n_clusters
    with pytest.raises(prefstat.MissingColumnError, match="'prompt', 'judge'"):
        model.bootstrap(data, n_boot=10, cluster="question")


# ---------------------------------------------------------------- (7) errors
@pytest.fixture(scope="module")
def fitted():
    df = simulate(n_items=4, n=400, seed=15).assign(prompt=np.arange(400) % 40)
    return prefstat.BradleyTerry().fit(df), df


@pytest.mark.parametrize("n_boot", [0, -5, 2.5, True, "100"])
def test_bad_n_boot(fitted, n_boot):
    model, df = fitted
    with pytest.raises(prefstat.InvalidParameterError, match="n_boot"):
        model.bootstrap(df, n_boot=n_boot)


def test_bad_conf_level_and_random_state(fitted):
    model, df = fitted
    with pytest.raises(prefstat.InvalidParameterError, match="conf_level"):
        model.bootstrap(df, n_boot=5, conf_level=1.5)
    with pytest.raises(prefstat.InvalidParameterError, match="random_state"):
        model.bootstrap(df, n_boot=5, random_state="seed")


def test_unknown_cluster_column(fitted):
    model, df = fitted
    with pytest.raises(prefstat.MissingColumnError, match=r"'question'.*cluster="):
        model.bootstrap(df, n_boot=5, cluster="question")
    with pytest.raises(KeyError):  # MissingColumnError is also a KeyError
        model.bootstrap(df, n_boot=5, cluster="question")


def test_degenerate_cluster_columns(fitted):
    model, df = fitted
    with pytest.raises(prefstat.InvalidParameterError, match="single value"):
        model.bootstrap(df.assign(one=1), n_boot=5, cluster="one")
    holes = df.assign(prompt=df["prompt"].where(df.index != 7))
    with pytest.raises(prefstat.DataValidationError, match="missing in 1 row"):
        model.bootstrap(holes, n_boot=5, cluster="prompt")


def test_not_fitted():
    df = simulate(n_items=3, n=50, seed=16)
    with pytest.raises(prefstat.NotFittedError):
        prefstat.BradleyTerry().bootstrap(df, n_boot=5)


def test_data_other_than_the_fitted_table(fitted):
    model, df = fitted
    extra = pd.concat([df, pd.DataFrame({"item_a": ["new"], "item_b": ["i00"],
                                         "outcome": ["a"], "prompt": [0]})])
    with pytest.raises(prefstat.InvalidItemError, match="'new'"):
        model.bootstrap(extra, n_boot=5)
    fewer = df[(df["item_a"] != "i03") & (df["item_b"] != "i03")]
    with pytest.raises(prefstat.InvalidItemError, match="'i03'"):
        model.bootstrap(fewer, n_boot=5)
    flipped = df.assign(outcome=df["outcome"].map({"a": "b", "b": "a"}))
    with pytest.raises(prefstat.DataValidationError, match="counts per pair differ"):
        model.bootstrap(flipped, n_boot=5)


def test_fractional_weights_need_a_cluster():
    df = simulate(n_items=4, n=400, seed=17)
    df["w"] = 0.5
    model = prefstat.BradleyTerry().fit(df, weight="w")
    with pytest.raises(prefstat.InvalidWeightError, match="whole-number weights"):
        model.bootstrap(df, n_boot=5, weight="w")
    df["row_id"] = np.arange(len(df))
    boot = model.bootstrap(df, n_boot=5, cluster="row_id", weight="w", random_state=0)
    assert boot.n_failed == 0


def test_all_replicates_failing_raises_and_a_penalty_keeps_them():
    """A three-cycle of single judgements: a replicate must draw all three to be fitted."""
    df = pd.DataFrame({"item_a": ["x", "y", "z"], "item_b": ["y", "z", "x"],
                       "outcome": ["a", "a", "a"]})
    with pytest.raises(prefstat.NotIdentifiableError, match="all 4 replicates failed"):
        prefstat.BradleyTerry().fit(df).bootstrap(df, n_boot=4, random_state=3)
    boot = prefstat.BradleyTerry(penalty=1.0).fit(df).bootstrap(df, n_boot=50, random_state=3)
    assert boot.n_failed == 0 and np.isfinite(boot.replicates).all()
